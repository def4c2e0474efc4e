package teams_test

import (
	"archive/zip"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const deployDir = "../../../deploy/teams"

type manifest struct {
	ManifestVersion string `json:"manifestVersion"`
	ID              string `json:"id"`
	Icons           struct{ Color, Outline string }
	Bots            []struct {
		BotID        string   `json:"botId"`
		Scopes       []string `json:"scopes"`
		CommandLists []struct {
			Scopes   []string `json:"scopes"`
			Commands []struct{ Title, Description string }
		} `json:"commandLists"`
	} `json:"bots"`
	ValidDomains []string `json:"validDomains"`
}

func checkManifest(t *testing.T, raw []byte) manifest {
	t.Helper()
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if m.ManifestVersion < "1.17" {
		t.Errorf("manifestVersion %s", m.ManifestVersion)
	}
	if len(m.Bots) != 1 || m.Bots[0].BotID != m.ID {
		t.Fatalf("bots: %+v (botId must be the app ID)", m.Bots)
	}
	b := m.Bots[0]
	for _, s := range []string{"personal", "team", "groupChat"} {
		if !slices.Contains(b.Scopes, s) {
			t.Errorf("bot lacks scope %s", s)
		}
	}
	var cmds []string
	for _, cl := range b.CommandLists {
		for _, c := range cl.Commands {
			cmds = append(cmds, c.Title)
			if len(c.Description) > 128 {
				t.Errorf("command %s: description over 128 characters", c.Title)
			}
		}
	}
	if strings.Join(cmds, ",") != "help,restart,status,reminders,forget" {
		t.Errorf("commands = %v", cmds)
	}
	if len(m.ValidDomains) == 0 {
		t.Error("no validDomains")
	}
	if m.Icons.Color != "color.png" || m.Icons.Outline != "outline.png" {
		t.Errorf("icons = %+v", m.Icons)
	}
	return m
}

func TestTeamsAppManifestAndIcons(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := checkManifest(t, raw)
	if m.ID != "{{MICROSOFT_APP_ID}}" {
		t.Errorf("the checked-in manifest should hold the placeholder, not an ID: %s", m.ID)
	}
	for name, size := range map[string]int{"color.png": 192, "outline.png": 32} {
		f, err := os.Open(filepath.Join(deployDir, name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Errorf("%s is %dx%d, want %dx%d", name, b.Dx(), b.Dy(), size, size)
		}
		if name == "outline.png" {
			checkOutline(t, img)
		}
	}
}

// checkOutline: Teams wants the outline icon white on transparent.
func checkOutline(t *testing.T, img image.Image) {
	var clear, white int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			switch {
			case a == 0:
				clear++
			case r == 0xffff && g == 0xffff && bl == 0xffff:
				white++
			default:
				t.Fatalf("outline.png has a pixel that is neither white nor transparent at %d,%d", x, y)
			}
		}
	}
	if clear == 0 || white == 0 {
		t.Errorf("outline.png: %d transparent, %d white pixels", clear, white)
	}
}

func TestPackageScriptBuildsTheUploadZip(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	out := filepath.Join(t.TempDir(), "app.zip")
	cmd := exec.Command("sh", filepath.Join(deployDir, "package.sh"), out)
	cmd.Env = append(os.Environ(), "MICROSOFT_APP_ID=00000000-1111-2222-3333-444444444444", "BOT_DOMAIN=itfit.example.com", "APP_VERSION=1.2.3")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("package.sh: %v\n%s", err, b)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Name == "manifest.json" {
			rc, _ := f.Open()
			raw, _ := io.ReadAll(rc)
			rc.Close()
			m := checkManifest(t, raw)
			if m.ID != "00000000-1111-2222-3333-444444444444" || m.ValidDomains[0] != "itfit.example.com" || strings.Contains(string(raw), "{{") {
				t.Errorf("placeholders not substituted: %s", raw)
			}
		}
	}
	slices.Sort(names)
	if strings.Join(names, ",") != "color.png,manifest.json,outline.png" {
		t.Errorf("zip holds %v", names)
	}

	bad := exec.Command("sh", filepath.Join(deployDir, "package.sh"), out)
	bad.Env = append(os.Environ(), "MICROSOFT_APP_ID=x/evil", "BOT_DOMAIN=itfit.example.com")
	if err := bad.Run(); err == nil {
		t.Error("package.sh accepted an app ID that is not a GUID")
	}
}
