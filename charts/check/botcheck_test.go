package check

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// ciValues is every charts/itfit/ci/*-values.yaml: each must lint, render
// and give the bot a configuration it accepts.
func ciValues(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no ci/*-values.yaml in %s (%v)", chartDir, err)
	}
	return files
}

var (
	botOnce sync.Once
	botPath string
	botErr  error
)

// botBin is the bot binary that judges the rendered configurations: $BOT
// (scripts/check-deploy passes the static build it has just checked), else
// one built here from ../../cmd/bot.
func botBin(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("BOT"); b != "" {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("BOT=%s: %v", b, err)
		}
		return b
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but BOT is not: scripts/check-deploy passes the bot it built")
	}
	botOnce.Do(func() {
		dir, err := os.MkdirTemp("", "itfit-chart-check-")
		if err != nil {
			botErr = err
			return
		}
		botPath = filepath.Join(dir, "bot")
		out, err := exec.Command("go", "-C", "../..", "build", "-o", botPath, "./cmd/bot").CombinedOutput()
		if err != nil {
			botErr = fmt.Errorf("go build ./cmd/bot: %v\n%s", err, out)
		}
	})
	if botErr != nil {
		t.Fatal(botErr)
	}
	return botPath
}

// containerEnv is the environment Kubernetes would give container c of a
// pod: envFrom sources in order (a later source wins a key), then env,
// each resolved from the rendered ConfigMaps and Secrets. ok is false
// when a source is not rendered (an existingSecret), so the environment
// cannot be known here. Files the container mounts from rendered
// ConfigMaps are written under root, and variables naming a file under a
// mount point are rewritten to point there.
func containerEnv(t *testing.T, objs []object, ps corev1.PodSpec, c corev1.Container, root string) (env map[string]string, ok bool) {
	t.Helper()
	cms, secrets := map[string]map[string]string{}, map[string]map[string]string{}
	for _, cm := range find[*corev1.ConfigMap](objs) {
		cms[cm.Name] = cm.Data
	}
	for _, s := range find[*corev1.Secret](objs) {
		d := map[string]string{}
		for k, v := range s.Data {
			d[k] = string(v)
		}
		for k, v := range s.StringData {
			d[k] = v
		}
		secrets[s.Name] = d
	}
	env = map[string]string{}
	for _, ef := range c.EnvFrom {
		var src map[string]string
		switch {
		case ef.ConfigMapRef != nil:
			src, ok = cms[ef.ConfigMapRef.Name]
		case ef.SecretRef != nil:
			src, ok = secrets[ef.SecretRef.Name]
		}
		if !ok {
			return nil, false
		}
		for k, v := range src {
			env[ef.Prefix+k] = v
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.ConfigMapKeyRef != nil:
			env[e.Name] = cms[e.ValueFrom.ConfigMapKeyRef.Name][e.ValueFrom.ConfigMapKeyRef.Key]
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = secrets[e.ValueFrom.SecretKeyRef.Name][e.ValueFrom.SecretKeyRef.Key]
		default:
			t.Fatalf("env %s: valueFrom %+v cannot be resolved from the rendered objects", e.Name, e.ValueFrom)
		}
	}
	for _, m := range c.VolumeMounts {
		v := volumeFor(ps, c, m.MountPath)
		if v == nil || v.ConfigMap == nil {
			continue
		}
		data, rendered := cms[v.ConfigMap.Name]
		if !rendered {
			continue
		}
		dir := filepath.Join(root, m.MountPath)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, it := range v.ConfigMap.Items {
			if err := os.WriteFile(filepath.Join(dir, it.Path), []byte(data[it.Key]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for k, val := range env {
			if rest, found := strings.CutPrefix(val, strings.TrimSuffix(m.MountPath, "/")+"/"); found {
				env[k] = filepath.Join(dir, rest)
			}
		}
	}
	return env, true
}

// botCheck runs `bot check --config-only` with exactly env.
func botCheck(t *testing.T, env map[string]string) (string, error) {
	t.Helper()
	cmd := exec.Command(botBin(t), "check", "--config-only")
	cmd.Env = []string{}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	slices.Sort(cmd.Env)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// renderedBotEnv renders the chart with args and returns the bot
// container's environment, and the helm test pod's, which must be equal.
func renderedBotEnv(t *testing.T, args ...string) map[string]string {
	t.Helper()
	out, err := helm(t, append([]string{"template", releaseName, chartDir, "--namespace", namespace}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeManifests(t, out)
	var d *appsv1.Deployment
	for _, dep := range find[*appsv1.Deployment](objs) {
		if dep.Spec.Template.Labels["app.kubernetes.io/component"] == "bot" {
			d = dep
		}
	}
	if d == nil {
		t.Fatal("no bot Deployment rendered")
	}
	ps := d.Spec.Template.Spec
	env, ok := containerEnv(t, objs, ps, ps.Containers[0], t.TempDir())
	if !ok {
		t.Fatalf("the bot's environment comes from a Secret or ConfigMap the chart does not render: a ci values file must render everything the bot reads")
	}
	return env
}

// TestCIValuesPassBotCheck renders the chart with every ci/*-values.yaml,
// gives the bot the environment Kubernetes would give its container
// (ConfigMap, Secret, env, and the mounted audit file), and runs the
// bot's own `bot check --config-only` on it: each must pass.
func TestCIValuesPassBotCheck(t *testing.T) {
	for _, f := range ciValues(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			env := renderedBotEnv(t, "-f", f)
			out, err := botCheck(t, env)
			t.Logf("bot check --config-only:\n%s", out)
			if err != nil {
				t.Fatalf("the bot refuses the configuration rendered from %s: %v\n%s", f, err, out)
			}
			if strings.Contains(out, "FAIL") {
				t.Fatalf("a FAIL line:\n%s", out)
			}
		})
	}
}

// TestBotCheckRefusesBadRenders: the same path catches a rendered
// configuration the bot would refuse, so the check above can fail.
func TestBotCheckRefusesBadRenders(t *testing.T) {
	full := filepath.Join(chartDir, "ci", "full-values.yaml")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a bot token with Add to Slack", []string{"-f", full, "--set", "secrets.slackBotToken=xoxb-test"}, "SLACK_BOT_TOKEN is for one workspace"},
		{"a plain-http public URL", []string{"-f", full, "--set", "publicURL=http://itfit.example.com"}, "ITFIT_PUBLIC_URL must use https"},
		{"a broken audit", []string{"-f", full, "--set", "auditFile.content=version: 1"}, "FAIL  audit"},
		{"a bad duration in extraEnv", []string{"--set", "extraEnv[0].name=ITFIT_SESSION_TTL", "--set", "extraEnv[0].value=7days"}, `ITFIT_SESSION_TTL: got "7days"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := botCheck(t, renderedBotEnv(t, tc.args...))
			if err == nil || !strings.Contains(out, tc.want) {
				t.Fatalf("bot check --config-only = %v, want a failure saying %q:\n%s", err, tc.want, out)
			}
		})
	}
}
