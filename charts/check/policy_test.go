package check

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// botUID is the distroless "nonroot" user the image runs as.
const botUID = 65532

// checkPolicy asserts the hardening every rendered workload must have.
func checkPolicy(t *testing.T, objs []object) {
	for _, o := range objs {
		for _, l := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "app.kubernetes.io/version", "helm.sh/chart"} {
			if o.Meta.Labels[l] == "" {
				t.Errorf("%s %s lacks label %s", o.Kind, o.Name, l)
			}
		}
		if sa, ok := o.Obj.(*corev1.ServiceAccount); ok {
			if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
				t.Errorf("ServiceAccount %s mounts its token", sa.Name)
			}
		}
	}
	for _, p := range find[*corev1.Pod](objs) {
		// Only helm test pods are rendered as bare Pods: they run to
		// completion, so they have no probes and must not restart.
		if p.Annotations["helm.sh/hook"] != "test" || p.Spec.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("Pod %s is not a helm test hook with restartPolicy Never", p.Name)
		}
		checkPodSpec(t, p.Name, p.Spec, false)
	}
	for _, d := range find[*appsv1.Deployment](objs) {
		checkPodSpec(t, d.Name, d.Spec.Template.Spec, true)
		if d.Spec.Template.Annotations["checksum/config"] == "" && d.Spec.Template.Labels["app.kubernetes.io/component"] == "bot" {
			t.Errorf("Deployment %s: pod template lacks checksum/config, so config changes would not roll the pods", d.Name)
		}
		if d.Spec.Template.Labels["app.kubernetes.io/component"] == "bot" {
			checkBotContainer(t, d)
		}
	}
}

// checkPodSpec asserts a pod's hardening; long-running pods (a
// Deployment's) must also have liveness and readiness probes.
func checkPodSpec(t *testing.T, name string, ps corev1.PodSpec, longRunning bool) {
	if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken is not false", name)
	}
	if ps.HostNetwork || ps.HostPID || ps.HostIPC {
		t.Errorf("%s: uses host namespaces", name)
	}
	psc := ps.SecurityContext
	if psc == nil {
		t.Errorf("%s: no pod securityContext", name)
		psc = &corev1.PodSecurityContext{}
	}
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s: pod runAsNonRoot is not true", name)
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod seccompProfile is not RuntimeDefault", name)
	}
	all := append(slices.Clone(ps.InitContainers), ps.Containers...)
	if len(ps.Containers) == 0 {
		t.Errorf("%s: no containers", name)
	}
	for _, c := range all {
		where := name + "/" + c.Name
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("%s: no container securityContext", where)
			continue
		}
		if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: runAsNonRoot is not true", where)
		}
		uid := sc.RunAsUser
		if uid == nil {
			uid = psc.RunAsUser
		}
		if uid == nil || *uid != botUID {
			t.Errorf("%s: runAsUser = %v, want %d", where, uid, botUID)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s: readOnlyRootFilesystem is not true", where)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: allowPrivilegeEscalation is not false", where)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s: privileged", where)
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("%s: capabilities do not drop ALL", where)
		} else if len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s: adds capabilities %v", where, sc.Capabilities.Add)
		}
		if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: seccompProfile is not RuntimeDefault", where)
		}
		r := c.Resources
		if r.Requests.Cpu().IsZero() || r.Requests.Memory().IsZero() {
			t.Errorf("%s: cpu/memory requests not set: %v", where, r.Requests)
		}
		if r.Limits.Memory().IsZero() {
			t.Errorf("%s: memory limit not set", where)
		}
		if c.Image == "" || strings.HasSuffix(c.Image, ":latest") || !strings.ContainsAny(c.Image, ":@") {
			t.Errorf("%s: image %q is not pinned to a tag or digest", where, c.Image)
		}
		if longRunning && (c.LivenessProbe == nil || c.ReadinessProbe == nil) {
			t.Errorf("%s: liveness and readiness probes required", where)
		}
	}
}

// checkBotContainer asserts the bot's probes, port and shutdown timing.
func checkBotContainer(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	ps := d.Spec.Template.Spec
	if len(ps.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", d.Name, len(ps.Containers))
	}
	c := ps.Containers[0]
	if len(c.Ports) != 2 || c.Ports[0].Name != "http" || c.Ports[1].Name != "admin" {
		t.Errorf("%s: ports = %+v, want http (the webhooks) and admin (probes, metrics)", d.Name, c.Ports)
	}
	// The probes and metrics are on the admin listener, which the bot opens
	// at ITFIT_ADMIN_ADDR; the ConfigMap must set it to the admin port.
	if len(c.Ports) == 2 {
		admin := c.Ports[1].ContainerPort
		if got := c.Ports[0].ContainerPort; got == admin {
			t.Errorf("%s: webhook and admin ports are both %d", d.Name, got)
		}
		if a := d.Spec.Template.Annotations; a["prometheus.io/scrape"] != "" && a["prometheus.io/port"] != fmt.Sprint(admin) {
			t.Errorf("%s: prometheus.io/port = %q, want the admin port %d", d.Name, a["prometheus.io/port"], admin)
		}
	}
	probe := func(kind string, p *corev1.Probe, path string) {
		if p == nil {
			t.Errorf("%s: no %s probe", d.Name, kind)
			return
		}
		if p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "admin" {
			t.Errorf("%s: %s probe = %+v, want GET %s on port admin", d.Name, kind, p.ProbeHandler, path)
		}
	}
	probe("liveness", c.LivenessProbe, "/healthz")
	probe("readiness", c.ReadinessProbe, "/readyz")
	if c.StartupProbe != nil {
		probe("startup", c.StartupProbe, "/healthz")
	}
	grace := int64(30)
	if ps.TerminationGracePeriodSeconds != nil {
		grace = *ps.TerminationGracePeriodSeconds
	}
	var preStop int64
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		preStop = c.Lifecycle.PreStop.Sleep.Seconds
	}
	// After SIGTERM the app fails /readyz for ITFIT_DRAIN_DELAY (3s) and then
	// waits up to ITFIT_SHUTDOWN_TIMEOUT (20s) for requests in flight.
	if grace < preStop+25 {
		t.Errorf("%s: terminationGracePeriodSeconds %d leaves under 25s for the app's drain after a %ds preStop", d.Name, grace, preStop)
	}
	if !slices.ContainsFunc(c.EnvFrom, func(e corev1.EnvFromSource) bool { return e.ConfigMapRef != nil }) {
		t.Errorf("%s: envFrom lacks the ConfigMap", d.Name)
	}
	if d.Spec.Strategy.RollingUpdate == nil || d.Spec.Strategy.RollingUpdate.MaxUnavailable == nil || d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Errorf("%s: rolling update may take pods down before new ones are ready", d.Name)
	}
}

// checkReferences asserts that names and selectors line up: Services and
// PDBs select pods that exist, the Ingress and HPA point at rendered
// objects, and ConfigMaps/Secrets used by pods are rendered (or existing).
func checkReferences(t *testing.T, objs []object) {
	byKind := map[string]map[string]bool{}
	for _, o := range objs {
		if byKind[o.Kind] == nil {
			byKind[o.Kind] = map[string]bool{}
		}
		byKind[o.Kind][o.Name] = true
	}
	var podLabels []labels.Set
	for _, d := range find[*appsv1.Deployment](objs) {
		sel := labels.SelectorFromSet(d.Spec.Selector.MatchLabels)
		if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("Deployment %s: selector does not match its pod labels", d.Name)
		}
		podLabels = append(podLabels, d.Spec.Template.Labels)
		ps := d.Spec.Template.Spec
		if sa := ps.ServiceAccountName; sa != "default" && !byKind["ServiceAccount"][sa] {
			t.Errorf("Deployment %s: ServiceAccount %q is not rendered", d.Name, sa)
		}
		for _, v := range ps.Volumes {
			if v.ConfigMap != nil && !byKind["ConfigMap"][v.ConfigMap.Name] {
				t.Errorf("Deployment %s: volume ConfigMap %q is not rendered", d.Name, v.ConfigMap.Name)
			}
		}
		for _, c := range ps.Containers {
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil && !byKind["ConfigMap"][ef.ConfigMapRef.Name] {
					t.Errorf("Deployment %s: envFrom ConfigMap %q is not rendered", d.Name, ef.ConfigMapRef.Name)
				}
				// A Secret not rendered here must be the operator's existingSecret;
				// the render cases check that name explicitly.
			}
		}
	}
	selects := func(sel map[string]string) int {
		n := 0
		for _, l := range podLabels {
			if len(sel) > 0 && labels.SelectorFromSet(sel).Matches(l) {
				n++
			}
		}
		return n
	}
	for _, p := range find[*corev1.Pod](objs) {
		if sa := p.Spec.ServiceAccountName; sa != "default" && !byKind["ServiceAccount"][sa] {
			t.Errorf("Pod %s: ServiceAccount %q is not rendered", p.Name, sa)
		}
		for _, c := range p.Spec.Containers {
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil && !byKind["ConfigMap"][ef.ConfigMapRef.Name] {
					t.Errorf("Pod %s: envFrom ConfigMap %q is not rendered", p.Name, ef.ConfigMapRef.Name)
				}
			}
		}
		// A Service or PDB selecting the test pod would send it traffic or
		// count it as a bot replica.
		for _, s := range find[*corev1.Service](objs) {
			if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(p.Labels)) {
				t.Errorf("Service %s selects the test pod %s", s.Name, p.Name)
			}
		}
		for _, pdb := range find[*policyv1.PodDisruptionBudget](objs) {
			if pdb.Spec.Selector != nil && labels.SelectorFromSet(pdb.Spec.Selector.MatchLabels).Matches(labels.Set(p.Labels)) {
				t.Errorf("PodDisruptionBudget %s selects the test pod %s", pdb.Name, p.Name)
			}
		}
		podLabels = append(podLabels, p.Labels)
	}
	for _, s := range find[*corev1.Service](objs) {
		for _, p := range s.Spec.Ports {
			if p.TargetPort.String() == "admin" || p.Name == "admin" {
				t.Errorf("Service %s exposes the admin port (probes, metrics)", s.Name)
			}
		}
		if selects(s.Spec.Selector) != 1 {
			t.Errorf("Service %s selects %d pod templates, want exactly 1", s.Name, selects(s.Spec.Selector))
		}
	}
	for _, p := range find[*policyv1.PodDisruptionBudget](objs) {
		if p.Spec.Selector == nil || selects(p.Spec.Selector.MatchLabels) != 1 {
			t.Errorf("PodDisruptionBudget %s does not select exactly the bot pods", p.Name)
		}
	}
	for _, np := range find[*networkingv1.NetworkPolicy](objs) {
		if selects(np.Spec.PodSelector.MatchLabels) != 1 {
			t.Errorf("NetworkPolicy %s does not select exactly one pod template", np.Name)
		}
		for _, r := range np.Spec.Ingress {
			for _, f := range r.From {
				if f.PodSelector != nil && selects(f.PodSelector.MatchLabels) != 1 {
					t.Errorf("NetworkPolicy %s allows traffic from no rendered pods", np.Name)
				}
			}
		}
	}
	for _, h := range find[*autoscalingv2.HorizontalPodAutoscaler](objs) {
		if h.Spec.ScaleTargetRef.Kind != "Deployment" || !byKind["Deployment"][h.Spec.ScaleTargetRef.Name] {
			t.Errorf("HPA %s targets %+v, which is not rendered", h.Name, h.Spec.ScaleTargetRef)
		}
	}
	for _, ing := range find[*networkingv1.Ingress](objs) {
		for _, r := range ing.Spec.Rules {
			for _, p := range r.HTTP.Paths {
				svc := p.Backend.Service
				if svc == nil || !byKind["Service"][svc.Name] {
					t.Errorf("Ingress %s: backend %+v is not a rendered Service", ing.Name, p.Backend)
					continue
				}
				for _, s := range find[*corev1.Service](objs) {
					if s.Name == svc.Name && !slices.ContainsFunc(s.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == svc.Port.Name }) {
						t.Errorf("Ingress %s: Service %s has no port %q", ing.Name, s.Name, svc.Port.Name)
					}
				}
			}
		}
	}
}

// checkTestPod asserts that the helm test pod runs `bot check` with exactly
// the bot container's configuration: image, envFrom, env and mounts.
func checkTestPod(t *testing.T, objs []object, d *appsv1.Deployment) {
	t.Helper()
	pods := find[*corev1.Pod](objs)
	if len(pods) != 1 {
		t.Fatalf("%d test pods, want 1", len(pods))
	}
	p, bot := pods[0], d.Spec.Template.Spec.Containers[0]
	if len(p.Spec.Containers) != 1 {
		t.Fatalf("test pod has %d containers", len(p.Spec.Containers))
	}
	c := p.Spec.Containers[0]
	if !slices.Equal(c.Args, []string{"check"}) || c.Image != bot.Image {
		t.Errorf("test pod runs %s %v, want the bot's image %s with args [check]", c.Image, c.Args, bot.Image)
	}
	if !reflect.DeepEqual(c.EnvFrom, bot.EnvFrom) || !reflect.DeepEqual(c.Env, bot.Env) {
		t.Errorf("test pod's environment differs from the bot's:\n%+v %+v\n%+v %+v", c.EnvFrom, c.Env, bot.EnvFrom, bot.Env)
	}
	if !reflect.DeepEqual(c.VolumeMounts, bot.VolumeMounts) {
		t.Errorf("test pod mounts %+v, the bot %+v", c.VolumeMounts, bot.VolumeMounts)
	}
	if p.Annotations["helm.sh/hook-delete-policy"] == "" {
		t.Error("test pod has no hook-delete-policy: reruns of helm test would collide")
	}
}
