package check

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const (
	chartDir    = "../itfit"
	fullValues  = "../itfit/ci/full-values.yaml"
	releaseName = "demo"
	namespace   = "itfit"
)

// helmBin returns the helm binary to use: $HELM, else helm on PATH. Without
// one the test fails when $CI is set (CI must never pass by skipping) and is
// skipped with a hint otherwise.
func helmBin(t *testing.T) string {
	t.Helper()
	recordChartInputs.Do(readChartFiles)
	if h := os.Getenv("HELM"); h != "" {
		if _, err := os.Stat(h); err != nil {
			t.Fatalf("HELM=%s: %v", h, err)
		}
		return h
	}
	if h, err := exec.LookPath("helm"); err == nil {
		return h
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but no helm binary was given: run HELM=$(scripts/helm) go test ./... (scripts/check-deploy does this)")
	}
	t.Skip("no helm: set HELM=$(../../scripts/helm) to run the chart checks")
	return ""
}

var recordChartInputs sync.Once

// readChartFiles reads every chart file. helm reads the chart in a child
// process, which `go test` cannot see; opening the files from the test
// records them as inputs, so a cached "ok" is reused only while the chart is
// unchanged. (scripts/check-deploy also runs with -count=1.)
func readChartFiles() {
	_ = filepath.WalkDir(chartDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			_, _ = os.ReadFile(path)
		}
		return nil
	})
}

// helm runs the helm binary and returns stdout; stderr is folded into the error.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	// Keep helm away from any kubeconfig or cache of the caller.
	tmp := t.TempDir()
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(tmp, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(tmp, "config"),
		"HELM_DATA_HOME="+filepath.Join(tmp, "data"),
		"KUBECONFIG="+filepath.Join(tmp, "kubeconfig-none"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s%s", strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.String(), nil
}

// object is one rendered manifest, decoded strictly into its typed form.
type object struct {
	Kind   string
	Name   string
	Source string // "# Source:" line helm prints
	Meta   metav1.ObjectMeta
	Obj    any
}

// newTyped maps apiVersion/kind to the k8s.io/api type the chart may render.
// Anything else is an error: a new kind must be added here on purpose.
func newTyped(apiVersion, kind string) (any, error) {
	switch apiVersion + "/" + kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1/Secret":
		return &corev1.Secret{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "v1/Pod":
		return &corev1.Pod{}, nil
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, nil
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}, nil
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, nil
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	}
	return nil, fmt.Errorf("unexpected kind %s %s: add it to newTyped and to the policy checks", apiVersion, kind)
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeManifests splits helm template output into documents and decodes each
// strictly: YAML → JSON (duplicate keys fail) → json.Decoder with
// DisallowUnknownFields into the typed object.
func decodeManifests(t *testing.T, out string) []object {
	t.Helper()
	var objs []object
	for _, doc := range docSep.Split(out, -1) {
		source := ""
		empty := true
		for _, line := range strings.Split(doc, "\n") {
			l := strings.TrimSpace(line)
			if strings.HasPrefix(l, "# Source:") {
				source = strings.TrimSpace(strings.TrimPrefix(l, "# Source:"))
			}
			if l != "" && !strings.HasPrefix(l, "#") {
				empty = false
			}
		}
		if empty {
			continue
		}
		js, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			t.Fatalf("%s: invalid YAML: %v\n%s", source, err, doc)
		}
		var tm metav1.TypeMeta
		if err := json.Unmarshal(js, &tm); err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		typed, err := newTyped(tm.APIVersion, tm.Kind)
		if err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(typed); err != nil {
			t.Fatalf("%s: strict decode into %T: %v\n%s", source, typed, err, doc)
		}
		if dec.More() {
			t.Fatalf("%s: trailing data after the object", source)
		}
		meta := metaOf(typed)
		if meta.Name == "" {
			t.Fatalf("%s: %s without metadata.name", source, tm.Kind)
		}
		objs = append(objs, object{Kind: tm.Kind, Name: meta.Name, Source: source, Meta: meta, Obj: typed})
	}
	if len(objs) == 0 {
		t.Fatal("helm template rendered no objects")
	}
	return objs
}

func metaOf(o any) metav1.ObjectMeta {
	type hasMeta interface{ GetObjectMeta() metav1.Object }
	m := o.(hasMeta).GetObjectMeta()
	return metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), Labels: m.GetLabels(), Annotations: m.GetAnnotations()}
}

func kinds(objs []object) map[string]int {
	k := map[string]int{}
	for _, o := range objs {
		k[o.Kind]++
	}
	return k
}

func find[T any](objs []object) []T {
	var r []T
	for _, o := range objs {
		if v, ok := o.Obj.(T); ok {
			r = append(r, v)
		}
	}
	return r
}

// renderCase is one set of values the chart must render (and lint) cleanly.
type renderCase struct {
	name string
	args []string // extra helm args (-f, --set)
	// kinds maps kind → exact number of objects expected.
	kinds map[string]int
	// check runs case-specific assertions.
	check func(t *testing.T, objs []object)
}

var renderCases = []renderCase{
	{
		name: "default values",
		kinds: map[string]int{
			"ConfigMap": 1, "Service": 1, "ServiceAccount": 1, "Deployment": 1, "Pod": 1,
		},
		check: func(t *testing.T, objs []object) {
			d := botDeployment(t, objs)
			checkTestPod(t, objs, d)
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
				t.Errorf("default replicas = %v, want 2", d.Spec.Replicas)
			}
			cm := configMap(t, objs, releaseName+"-itfit")
			if _, ok := cm.Data["REDIS_URL"]; ok {
				t.Errorf("default ConfigMap sets REDIS_URL=%q; the default is an operator-supplied Redis", cm.Data["REDIS_URL"])
			}
			if cm.Data["PORT"] != "3000" || cm.Data["ITFIT_ADMIN_ADDR"] != ":9090" {
				t.Errorf("PORT = %q, ITFIT_ADMIN_ADDR = %q, want 3000 and :9090", cm.Data["PORT"], cm.Data["ITFIT_ADMIN_ADDR"])
			}
			if v, ok := cm.Data["ITFIT_PUBLIC_URL"]; ok {
				t.Errorf("ITFIT_PUBLIC_URL = %q without publicURL or an Ingress", v)
			}
			for _, ef := range d.Spec.Template.Spec.Containers[0].EnvFrom {
				if ef.SecretRef != nil {
					t.Errorf("envFrom references Secret %q although none is rendered", ef.SecretRef.Name)
				}
			}
		},
	},
	{
		name: "full values",
		args: []string{"-f", fullValues},
		kinds: map[string]int{
			"ConfigMap": 2, "Secret": 1, "Service": 2, "ServiceAccount": 1,
			"Deployment": 2, "Ingress": 1, "HorizontalPodAutoscaler": 1,
			"PodDisruptionBudget": 1, "NetworkPolicy": 1, "Pod": 1,
		},
		check: func(t *testing.T, objs []object) {
			d := botDeployment(t, objs)
			checkTestPod(t, objs, d)
			// The embedded Redis admits the test pod, which pings it.
			np := find[*networkingv1.NetworkPolicy](objs)[0]
			if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 2 ||
				np.Spec.Ingress[0].From[1].PodSelector.MatchLabels["app.kubernetes.io/component"] != "check" {
				t.Errorf("embedded Redis NetworkPolicy does not admit the helm test pod: %+v", np.Spec.Ingress)
			}
			if d.Spec.Replicas != nil {
				t.Errorf("replicas set to %d although the HPA owns them", *d.Spec.Replicas)
			}
			sec := find[*corev1.Secret](objs)[0]
			for _, k := range []string{"SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_CLIENT_SECRET", "MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "ITFIT_ENCRYPTION_KEY"} {
				if sec.StringData[k] == "" {
					t.Errorf("Secret lacks %s", k)
				}
			}
			// Add to Slack takes each workspace's token from its install.
			if v, ok := sec.StringData["SLACK_BOT_TOKEN"]; ok {
				t.Errorf("Secret sets SLACK_BOT_TOKEN=%q beside Add to Slack, which the bot refuses", v)
			}
			c := d.Spec.Template.Spec.Containers[0]
			if n := len(c.EnvFrom); n < 2 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != sec.Name || c.EnvFrom[1].ConfigMapRef == nil {
				t.Errorf("envFrom = %+v, want the Secret %q then the ConfigMap (so the ConfigMap's REDIS_URL wins)", c.EnvFrom, sec.Name)
			}
			cm := configMap(t, objs, releaseName+"-itfit")
			want := map[string]string{
				"REDIS_URL":                     "redis://" + releaseName + "-itfit-redis:6379/0",
				"ITFIT_AUDIT_FILE":              "/etc/itfit/audit/audit.yaml",
				"LOG_LEVEL":                     "debug",
				"ITFIT_SESSION_TTL":             "72h",
				"ITFIT_HISTORY_TTL":             "8760h",
				"ITFIT_REVISIT_AFTER":           "4380h",
				"SLACK_CLIENT_ID":               "1234567890.0987654321",
				"MICROSOFT_APP_TENANT_ID":       "00000000-0000-0000-0000-000000000001",
				"ITFIT_ACCOUNT_MANAGERS":        "slack:T0123CLIENT=T0456PROVIDER/U0789ALICE, slack:T0124CLIENT=C0ACCOUNTS, teams:00000000-0000-0000-0000-000000000001=29:1bob",
				"ITFIT_PUBLIC_URL":              "https://itfit.example.com",
				"ITFIT_ADMIN_ADDR":              ":9091",
				"ITFIT_DRAIN_DELAY":             "5s",
				"ITFIT_SHUTDOWN_TIMEOUT":        "30s",
				"SLACK_SCOPES":                  "commands,chat:write,im:write,users:read,app_mentions:read,files:write,im:history,channels:history,groups:history",
				"SLACK_API_URL":                 "https://slack.com/api/",
				"MICROSOFT_OPENID_METADATA_URL": "https://login.botframework.com/v1/.well-known/openidconfiguration",
				"MICROSOFT_TOKEN_URL":           "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token",
			}
			for k, v := range want {
				if cm.Data[k] != v {
					t.Errorf("ConfigMap %s = %q, want %q", k, cm.Data[k], v)
				}
			}
			// The audit file is mounted where ITFIT_AUDIT_FILE points.
			audit := configMap(t, objs, releaseName+"-itfit-audit")
			if !strings.Contains(audit.Data["audit.yaml"], `version: "ci-1"`) {
				t.Errorf("audit ConfigMap content = %q", audit.Data["audit.yaml"])
			}
			if !mounted(d.Spec.Template.Spec, c, "/etc/itfit/audit", audit.Name) {
				t.Errorf("audit ConfigMap %s is not mounted at /etc/itfit/audit", audit.Name)
			}
			for _, a := range []string{"checksum/config", "checksum/secret", "checksum/audit"} {
				if d.Spec.Template.Annotations[a] == "" {
					t.Errorf("pod template lacks %s annotation", a)
				}
			}
			if c.StartupProbe == nil {
				t.Error("startup probe not rendered although enabled")
			}
			if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds != 10 {
				t.Errorf("preStop sleep = %+v, want 10s", c.Lifecycle)
			}
			if got := d.Spec.Template.Spec.TopologySpreadConstraints; len(got) != 1 || got[0].LabelSelector == nil || got[0].LabelSelector.MatchLabels["app.kubernetes.io/component"] != "bot" {
				t.Errorf("topologySpreadConstraints = %+v, want one with the bot's selector filled in", got)
			}
			ing := find[*networkingv1.Ingress](objs)[0]
			if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" || len(ing.Spec.TLS) != 1 || len(ing.Spec.Rules) != 2 {
				t.Errorf("Ingress spec = %+v", ing.Spec)
			}
			for _, r := range ing.Spec.Rules {
				for _, p := range r.HTTP.Paths {
					if p.Path == "/metrics" || p.Path == "/" {
						t.Errorf("Ingress exposes %s", p.Path)
					}
				}
			}
			hpa := find[*autoscalingv2.HorizontalPodAutoscaler](objs)[0]
			if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas != 2 || hpa.Spec.MaxReplicas != 10 || len(hpa.Spec.Metrics) != 2 {
				t.Errorf("HPA spec = %+v", hpa.Spec)
			}
			rd := deployment(t, objs, releaseName+"-itfit-redis")
			rc := rd.Spec.Template.Spec.Containers[0]
			if !strings.HasPrefix(rc.Image, "redis:7") {
				t.Errorf("embedded Redis image = %q, want the official redis:7", rc.Image)
			}
			if !mountedEmptyDir(rd.Spec.Template.Spec, rc, "/data") {
				t.Error("embedded Redis /data is not an emptyDir")
			}
			if rd.Annotations["itfit.io/purpose"] == "" {
				t.Error("embedded Redis is not labelled as trial-only")
			}
		},
	},
	{
		name: "Add to Slack behind a gateway: publicURL reaches the pod",
		args: []string{
			"--set", "publicURL=https://chat.example.com/",
			"--set", "config.slackClientID=1.2",
			"--set", "config.slackScopes=commands\\,chat:write",
			"--set", "config.drainDelay=1s",
			"--set", "config.shutdownTimeout=10s",
			"--set", "admin.port=8081",
		},
		kinds: map[string]int{"ConfigMap": 1, "Service": 1, "ServiceAccount": 1, "Deployment": 1, "Pod": 1},
		check: func(t *testing.T, objs []object) {
			cm := configMap(t, objs, releaseName+"-itfit")
			for k, v := range map[string]string{
				"ITFIT_PUBLIC_URL": "https://chat.example.com", "SLACK_CLIENT_ID": "1.2", "SLACK_SCOPES": "commands,chat:write",
				"ITFIT_DRAIN_DELAY": "1s", "ITFIT_SHUTDOWN_TIMEOUT": "10s", "ITFIT_ADMIN_ADDR": ":8081",
			} {
				if cm.Data[k] != v {
					t.Errorf("ConfigMap %s = %q, want %q", k, cm.Data[k], v)
				}
			}
			if p := botDeployment(t, objs).Spec.Template.Spec.Containers[0].Ports; len(p) != 2 || p[1].ContainerPort != 8081 {
				t.Errorf("ports = %+v, want admin on 8081", p)
			}
		},
	},
	{
		name:  "socket mode values",
		args:  []string{"-f", "../itfit/ci/socket-mode-values.yaml"},
		kinds: map[string]int{"ConfigMap": 1, "Secret": 1, "Service": 1, "ServiceAccount": 1, "Deployment": 1, "Pod": 1},
		check: func(t *testing.T, objs []object) {
			cm := configMap(t, objs, releaseName+"-itfit")
			if _, ok := cm.Data["REDIS_URL"]; ok {
				t.Error("ConfigMap sets REDIS_URL although the URL with its password is in the Secret")
			}
			if sec := find[*corev1.Secret](objs)[0]; !strings.Contains(sec.StringData["REDIS_URL"], "test-password@") {
				t.Errorf("Secret REDIS_URL = %q", sec.StringData["REDIS_URL"])
			}
		},
	},
	{
		name: "existing secret",
		args: []string{
			"--set", "existingSecret=itfit-credentials",
			"--set", "secrets.slackSigningSecret=ignored",
			"--set", "redis.url=redis://redis.example.svc:6379/0",
		},
		kinds: map[string]int{"ConfigMap": 1, "Service": 1, "ServiceAccount": 1, "Deployment": 1, "Pod": 1},
		check: func(t *testing.T, objs []object) {
			checkTestPod(t, objs, botDeployment(t, objs))
			c := botDeployment(t, objs).Spec.Template.Spec.Containers[0]
			if len(c.EnvFrom) == 0 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != "itfit-credentials" {
				t.Errorf("envFrom = %+v, want secretRef itfit-credentials", c.EnvFrom)
			}
			if cm := configMap(t, objs, releaseName+"-itfit"); cm.Data["REDIS_URL"] != "redis://redis.example.svc:6379/0" {
				t.Errorf("REDIS_URL = %q", cm.Data["REDIS_URL"])
			}
		},
	},
	{
		name: "minimal: no service account, no spread, digest, secret redis URL",
		args: []string{
			"--set", "serviceAccount.create=false",
			"--set", "spreadAcrossNodes=false",
			"--set", "preStopSleepSeconds=0",
			"--set", "metrics.scrapeAnnotations=false",
			"--set", "image.digest=sha256:" + strings.Repeat("ab", 32),
			"--set", "secrets.redisURL=rediss://:pw@redis.example.com:6380/0",
			"--set", "podDisruptionBudget.enabled=true",
			"--set", "podDisruptionBudget.maxUnavailable=50%",
			"--set", "helmTest.enabled=false",
		},
		kinds: map[string]int{"ConfigMap": 1, "Secret": 1, "Service": 1, "Deployment": 1, "PodDisruptionBudget": 1},
		check: func(t *testing.T, objs []object) {
			d := botDeployment(t, objs)
			ps := d.Spec.Template.Spec
			if ps.ServiceAccountName != "default" {
				t.Errorf("serviceAccountName = %q, want default", ps.ServiceAccountName)
			}
			if len(ps.TopologySpreadConstraints) != 0 {
				t.Errorf("topology spread rendered although disabled")
			}
			if img := ps.Containers[0].Image; !strings.Contains(img, "@sha256:") {
				t.Errorf("image = %q, want a digest reference", img)
			}
			if ps.Containers[0].Lifecycle != nil {
				t.Errorf("preStop rendered although preStopSleepSeconds=0")
			}
			if _, ok := configMap(t, objs, releaseName+"-itfit").Data["REDIS_URL"]; ok {
				t.Error("ConfigMap sets REDIS_URL although it comes from the Secret")
			}
			if sec := find[*corev1.Secret](objs)[0]; sec.StringData["REDIS_URL"] == "" {
				t.Error("Secret lacks REDIS_URL")
			}
			pdb := find[*policyv1.PodDisruptionBudget](objs)[0]
			if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.String() != "50%" || pdb.Spec.MinAvailable != nil {
				t.Errorf("PDB spec = %+v", pdb.Spec)
			}
		},
	},
}

func TestLint(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"default values", nil},
		{"existing secret", []string{"--set", "existingSecret=itfit-credentials"}},
	}
	for _, f := range ciValues(t) {
		cases = append(cases, struct {
			name string
			args []string
		}{filepath.Base(f), []string{"-f", f}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := helm(t, append([]string{"lint", "--strict", chartDir}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "0 chart(s) failed") {
				t.Fatalf("helm lint output:\n%s", out)
			}
		})
	}
}

func TestRender(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"template", releaseName, chartDir, "--namespace", namespace}, tc.args...)
			out, err := helm(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			objs := decodeManifests(t, out)
			got := kinds(objs)
			for k, n := range tc.kinds {
				if got[k] != n {
					t.Errorf("%d %s objects, want %d", got[k], k, n)
				}
			}
			for k, n := range got {
				if _, ok := tc.kinds[k]; !ok {
					t.Errorf("unexpected %d %s object(s)", n, k)
				}
			}
			checkPolicy(t, objs)
			checkReferences(t, objs)
			if tc.check != nil {
				tc.check(t, objs)
			}
		})
	}
}

// TestSchemaRejects proves values.schema.json (and the chart's own checks)
// turn mistakes into errors rather than silently ignoring them.
func TestSchemaRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string // substring of helm's error output
	}{
		{"non-integer replicaCount", []string{"--set", "replicaCount=abc"}, "replicaCount"},
		{"unknown top-level key", []string{"--set", "replicas=3"}, "replicas"},
		{"typo inside image", []string{"--set", "image.repo=x"}, "repo"},
		{"typo inside ingress", []string{"--set", "ingress.host=x"}, "host"},
		{"typo inside redis.embedded", []string{"--set", "redis.embedded.enable=true"}, "enable"},
		{"typo inside secrets", []string{"--set", "secrets.slackSigningSecert=x"}, "slackSigningSecert"},
		{"bad log level", []string{"--set", "config.logLevel=verbose"}, "logLevel"},
		{"bad pull policy", []string{"--set", "image.pullPolicy=Sometimes"}, "pullPolicy"},
		{"bad duration", []string{"--set", "config.sessionTTL=7days"}, "sessionTTL"},
		{"bad redis scheme", []string{"--set", "redis.url=http://redis:6379"}, "url"},
		{"bad service type", []string{"--set", "service.type=Internal"}, "type"},
		{"port out of range", []string{"--set", "containerPort=70000"}, "containerPort"},
		{"embedded and external redis", []string{"--set", "redis.embedded.enabled=true", "--set", "redis.url=redis://r:6379"}, "choose one Redis"},
		{"grace period shorter than preStop", []string{"--set", "terminationGracePeriodSeconds=5", "--set", "preStopSleepSeconds=10"}, "terminationGracePeriodSeconds"},
		{"audit file without content", []string{"--set", "auditFile.enabled=true"}, "auditFile"},
		{"HPA min above max", []string{"--set", "autoscaling.enabled=true", "--set", "autoscaling.minReplicas=5", "--set", "autoscaling.maxReplicas=2"}, "minReplicas"},
		{"account manager without platform", []string{"--set", "config.accountManagers=T0123=alice@example.com"}, "accountManagers"},
		{"account manager without manager", []string{"--set", "config.accountManagers=slack:T0123="}, "accountManagers"},
		{"encryption key without ID", []string{"--set", "secrets.encryptionKey=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}, "encryptionKey"},
		{"encryption key too short", []string{"--set", "secrets.encryptionKey=k1:MDEyMzQ1Njc4OWFiY2RlZg=="}, "encryptionKey"},
		{"bad drain delay", []string{"--set", "config.drainDelay=3"}, "drainDelay"},
		{"bad shutdown timeout", []string{"--set", "config.shutdownTimeout=soon"}, "shutdownTimeout"},
		{"bad scopes", []string{"--set", "config.slackScopes=chat write"}, "slackScopes"},
		{"credentials in redis.url", []string{"--set", "redis.url=redis://itfit:s3cret@redis:6379/0"}, "redis.url holds credentials (user:password@) and would be stored in a ConfigMap: put the whole URL in secrets.redisURL"},
		{"password-only redis.url", []string{"--set", "redis.url=rediss://:s3cret@redis:6380"}, "secrets.redisURL"},
		{"password parameter in redis.url", []string{"--set", "redis.url=redis://redis:6379/0?master_name=m&sentinel_password=s3cret"}, "password parameter"},
		{"Add to Slack without a public address", []string{"--set", "config.slackClientID=1.2"}, "config.slackClientID (Add to Slack) needs the bot's public address: set publicURL"},
		{"admin port on the webhook port", []string{"--set", "admin.port=3000"}, "admin.port must differ from containerPort"},
		{"webhook over http", webhookArgs("url=http://crm.example.com/in"), "url"},
		{"webhook without a whsec_ secret", webhookArgs("secrets[0]=s3cret"), "secrets"},
		{"unknown webhook event", webhookArgs("events[0]=audit.done"), "events"},
		{"typo in a webhook", webhookArgs("allowPrivate=true"), "allowPrivate"},
		{"webhooks beside existingSecret", append(webhookArgs(), "--set", "existingSecret=creds"), "put ITFIT_WEBHOOKS (the endpoints as JSON) in that Secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"template", releaseName, chartDir}, tc.args...)
			out, err := helm(t, args...)
			if err == nil {
				t.Fatalf("helm template %v succeeded, want an error mentioning %q; output:\n%s", tc.args, tc.wantErr, out)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error does not mention %q:\n%v", tc.wantErr, err)
			}
		})
	}
}

// webhookArgs sets one valid webhook endpoint, then overrides.
func webhookArgs(overrides ...string) []string {
	args := []string{"--set", "webhooks.endpoints[0].name=crm", "--set", "webhooks.endpoints[0].url=https://crm.example.com/in",
		"--set", "webhooks.endpoints[0].secrets[0]=whsec_ZmFrZS1uZXctc2VjcmV0LWZvci1jaGFydC1jaGVja3M=",
		"--set", "webhooks.endpoints[0].events[0]=audit.completed"}
	for _, o := range overrides {
		args = append(args, "--set", "webhooks.endpoints[0]."+o)
	}
	return args
}

// TestNotes checks the URLs NOTES.txt gives the operator to paste into Slack
// and Azure. `helm template` does not render NOTES and `helm install
// --dry-run` needs a cluster, so the test renders NOTES.txt through `tpl` in
// a throwaway copy of the chart: the same template text, values and helpers.
func TestNotes(t *testing.T) {
	chart := notesChart(t)
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string
		notWant []string
	}{
		{
			name: "Add to Slack, ingress with TLS",
			args: []string{"-f", fullValues},
			want: []string{
				"Public base URL (ITFIT_PUBLIC_URL): https://itfit.example.com\n",
				"  Slash Commands -> Request URL:             https://itfit.example.com/slack/commands\n",
				"  Interactivity & Shortcuts -> Request URL:  https://itfit.example.com/slack/interactions\n",
				"  Event Subscriptions -> Request URL:        https://itfit.example.com/slack/events\n",
				"  OAuth & Permissions -> Redirect URL:       https://itfit.example.com/slack/oauth/callback\n",
				"  Install link to share with workspaces:     https://itfit.example.com/slack/install\n",
				"  Messaging endpoint:                        https://itfit.example.com/api/messages\n",
				"port-forward deployment/demo-itfit 9091:9091",
				"curl -fsS http://127.0.0.1:9091/readyz",
				"TRIAL-ONLY Redis",
			},
			notWant: []string{"plain HTTP", "no credentials", "no Redis is configured"},
		},
		{
			name: "single workspace: no OAuth lines; ingress without TLS warns",
			args: []string{"--set", "ingress.enabled=true", "--set", "ingress.hosts[0]=bot.example.net", "--set", "redis.url=redis://r:6379/0"},
			want: []string{
				"https://bot.example.net/slack/events", "https://bot.example.net/api/messages",
				"no ingress.tls block lists bot.example.net", "no credentials",
				"  kubectl create secret generic itfit-credentials --namespace itfit \\\n    --from-literal=SLACK_SIGNING_SECRET=... --from-literal=SLACK_BOT_TOKEN=xoxb-...",
				"--set existingSecret=itfit-credentials",
			},
			notWant: []string{"/slack/oauth/callback", "/slack/install", "Redirect URL", "--from-literal=REDIS_URL"},
		},
		{
			name: "publicURL overrides; how to create the existing Secret",
			args: []string{"--set", "publicURL=https://chat.example.com/", "--set", "existingSecret=creds"},
			want: []string{
				"https://chat.example.com/slack/commands", "https://chat.example.com/api/messages", `Secret "creds" (existing`,
				"  kubectl create secret generic creds --namespace itfit \\\n",
				"    --from-literal=REDIS_URL=rediss://:PASSWORD@",
			},
			notWant: []string{"/slack/install", "plain HTTP"},
		},
		{
			name:    "plain-http publicURL warns",
			args:    []string{"--set", "publicURL=http://chat.example.com"},
			want:    []string{"WARNING: http://chat.example.com is plain HTTP"},
			notWant: []string{"no ingress.tls block"},
		},
		{
			name:    "no public URL",
			want:    []string{"No public URL is configured", "/slack/events", "/api/messages", "no Redis is configured"},
			notWant: []string{"https://", "/slack/oauth/callback", "/slack/install"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"template", releaseName, chart, "--namespace", namespace, "--show-only", "templates/" + notesTemplate}, tc.args...)
			out, err := helm(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			var cm corev1.ConfigMap
			js, err := yaml.YAMLToJSONStrict([]byte(out))
			if err == nil {
				err = json.Unmarshal(js, &cm)
			}
			if err != nil {
				t.Fatalf("NOTES wrapper: %v\n%s", err, out)
			}
			notes := cm.Data["NOTES.txt"]
			if strings.TrimSpace(notes) == "" {
				t.Fatal("NOTES rendered empty")
			}
			for _, w := range tc.want {
				if !strings.Contains(notes, w) {
					t.Errorf("NOTES lack %q:\n%s", w, notes)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(notes, w) {
					t.Errorf("NOTES contain %q:\n%s", w, notes)
				}
			}
			// Every URL to paste starts in the same column.
			col := -1
			for _, l := range strings.Split(notes, "\n") {
				i := strings.Index(l, ":  ")
				j := strings.Index(l, "http")
				if i < 0 || j < 0 || !strings.HasPrefix(l, "  ") || strings.HasPrefix(l, "  kubectl") || strings.HasPrefix(l, "  curl") {
					continue
				}
				if col >= 0 && j != col {
					t.Errorf("URL in %q starts at column %d, others at %d", l, j, col)
				}
				col = j
			}
		})
	}
}

const notesTemplate = "zz-notes-under-test.yaml"

// notesChart copies the chart into a temporary directory and adds a template
// that renders NOTES.txt with tpl into a ConfigMap, so `helm template
// --show-only` prints it.
func notesChart(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "itfit")
	if err := os.CopyFS(dst, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	notes, err := os.ReadFile(filepath.Join(chartDir, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "notes-under-test.txt"), notes, 0o644); err != nil {
		t.Fatal(err)
	}
	wrapper := `apiVersion: v1
kind: ConfigMap
metadata:
  name: notes-under-test
data:
  NOTES.txt: {{ tpl (.Files.Get "notes-under-test.txt") . | quote }}
`
	if err := os.WriteFile(filepath.Join(dst, "templates", notesTemplate), []byte(wrapper), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

func deployment(t *testing.T, objs []object, name string) *appsv1.Deployment {
	t.Helper()
	for _, d := range find[*appsv1.Deployment](objs) {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no Deployment %q", name)
	return nil
}

func botDeployment(t *testing.T, objs []object) *appsv1.Deployment {
	t.Helper()
	return deployment(t, objs, releaseName+"-itfit")
}

func configMap(t *testing.T, objs []object, name string) *corev1.ConfigMap {
	t.Helper()
	for _, c := range find[*corev1.ConfigMap](objs) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no ConfigMap %q", name)
	return nil
}

func volumeFor(ps corev1.PodSpec, c corev1.Container, path string) *corev1.Volume {
	for _, m := range c.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		for i := range ps.Volumes {
			if ps.Volumes[i].Name == m.Name {
				return &ps.Volumes[i]
			}
		}
	}
	return nil
}

func mounted(ps corev1.PodSpec, c corev1.Container, path, configMap string) bool {
	v := volumeFor(ps, c, path)
	return v != nil && v.ConfigMap != nil && v.ConfigMap.Name == configMap
}

func mountedEmptyDir(ps corev1.PodSpec, c corev1.Container, path string) bool {
	v := volumeFor(ps, c, path)
	return v != nil && v.EmptyDir != nil
}
