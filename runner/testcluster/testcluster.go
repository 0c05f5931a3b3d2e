// Package testcluster connects tests to the local cluster that make test
// starts (hack/localcluster), and gives each test a namespace of its own.
package testcluster

import (
	"context"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/step"
)

// EnvKubeconfig names the variable that points tests at the local cluster.
const EnvKubeconfig = "KDRILL_E2E_KUBECONFIG"

// Kubeconfig returns the local cluster's kubeconfig path, or skips the test
// when it is not set (make test always sets it).
func Kubeconfig(t testing.TB) string {
	t.Helper()
	path := os.Getenv(EnvKubeconfig)
	if path == "" {
		t.Skipf("%s is not set: run the end-to-end tests with make test, which starts the local cluster", EnvKubeconfig)
	}
	return path
}

// Connect returns clients for the local cluster.
func Connect(t testing.TB) *kube.Cluster {
	t.Helper()
	c, err := kube.Connect(kube.Connection{Kubeconfig: Kubeconfig(t)})
	if err != nil {
		t.Fatalf("connect to the local cluster: %v", err)
	}
	return c
}

// EnvKubeconfig2 points the two-cluster tests at the second local cluster.
const EnvKubeconfig2 = "KDRILL_E2E_KUBECONFIG2"

// Contexts connects both local clusters, by context name, or skips the
// test when the second is not there (make test starts it).
func Contexts(t testing.TB) map[string]*kube.Cluster {
	t.Helper()
	out := map[string]*kube.Cluster{}
	second := os.Getenv(EnvKubeconfig2)
	if second == "" {
		t.Skipf("%s is not set: the two-cluster tests need the second local cluster, which make test starts", EnvKubeconfig2)
	}
	for _, path := range []string{Kubeconfig(t), second} {
		c, err := kube.Connect(kube.Connection{Kubeconfig: path})
		if err != nil {
			t.Fatalf("connect %s: %v", path, err)
		}
		out[c.Context] = c
	}
	return out
}

// Admin returns a plain clientset for the local cluster, outside kdrill's
// safety policy, for tests that prepare what kdrill must not touch (pods
// in kube-system).
func Admin(t testing.TB) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", Kubeconfig(t))
	if err != nil {
		t.Fatalf("local cluster kubeconfig: %v", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// Namespace creates a namespace for the test and deletes it when the test
// ends.
func Namespace(t testing.TB, c *kube.Cluster) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns, err := c.Typed.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: "kdrill-test-",
		Labels:       map[string]string{step.LabelManagedBy: "kdrill-tests"},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create test namespace: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Typed.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
	})
	readyNamespace(ctx, t, c, ns.Name)
	return ns.Name
}

// readyNamespace gives a test's namespace at once what the controller
// manager gives every namespace: the default ServiceAccount and the CA
// ConfigMap (which it then keeps up to date). After a control-plane fault
// another test caused, its controllers can take a minute to get there, and
// a quota applied first would refuse the ConfigMap and count wrong.
func readyNamespace(ctx context.Context, t testing.TB, c *kube.Cluster, ns string) {
	t.Helper()
	ca := c.Config.CAData
	if len(ca) == 0 && c.Config.CAFile != "" {
		var err error
		if ca, err = os.ReadFile(c.Config.CAFile); err != nil {
			t.Fatalf("the cluster's CA: %v", err)
		}
	}
	_, err := c.Typed.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("namespace %s: default ServiceAccount: %v", ns, err)
	}
	_, err = c.Typed.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: kube.RootCAConfigMap},
		Data:       map[string]string{"ca.crt": string(ca)},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("namespace %s: %s: %v", ns, kube.RootCAConfigMap, err)
	}
}

// Fake returns a Cluster backed by client-go's fake clientsets, holding
// objects, for tests of the run loop and of steps' error paths that need
// no control plane. Its dynamic client and mapper know the core and apps
// kinds the steps act on.
func Fake(objects ...runtime.Object) *kube.Cluster {
	scheme := runtime.NewScheme()
	_ = corev1.AddToScheme(scheme)
	_ = appsv1.AddToScheme(scheme)
	typed := kubefake.NewClientset(objects...)
	// As the controller manager does, a new namespace gets its default
	// ServiceAccount and CA ConfigMap (kdrill waits for both).
	typed.PrependReactor("create", "namespaces", func(a k8stesting.Action) (bool, runtime.Object, error) {
		name := a.(k8stesting.CreateAction).GetObject().(metav1.Object).GetName()
		_ = typed.Tracker().Add(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: name}})
		_ = typed.Tracker().Add(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: kube.RootCAConfigMap, Namespace: name}})
		return false, nil, nil
	})
	mapper := meta.NewDefaultRESTMapper(nil)
	fd := typed.Discovery().(*fakediscovery.FakeDiscovery)
	for _, group := range []struct {
		gv         schema.GroupVersion
		namespaced []string
		cluster    []string
	}{
		{corev1.SchemeGroupVersion, []string{"ConfigMap", "Pod", "Service", "Secret", "Event", "ResourceQuota"}, []string{"Namespace", "Node"}},
		{appsv1.SchemeGroupVersion, []string{"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"}, nil},
	} {
		list := &metav1.APIResourceList{GroupVersion: group.gv.String()}
		for i, kinds := range [][]string{group.namespaced, group.cluster} {
			for _, k := range kinds {
				scope := meta.RESTScopeNamespace
				if i == 1 {
					scope = meta.RESTScopeRoot
				}
				mapper.Add(group.gv.WithKind(k), scope)
				plural, _ := meta.UnsafeGuessKindToResource(group.gv.WithKind(k))
				list.APIResources = append(list.APIResources, metav1.APIResource{Name: plural.Resource, Kind: k, Namespaced: i == 0})
			}
		}
		fd.Resources = append(fd.Resources, list)
	}
	return &kube.Cluster{
		Typed:     typed,
		Dynamic:   dynamicfake.NewSimpleDynamicClient(scheme, objects...),
		Mapper:    resettable{mapper},
		Discovery: memory.NewMemCacheClient(typed.Discovery()),
		Server:    "https://fake.invalid",
		Context:   "kind-fake",
		Redactor:  kube.NewRedactor(),
	}
}

// resettable is a fixed mapper that has nothing to reset.
type resettable struct{ meta.RESTMapper }

func (resettable) Reset() {}
