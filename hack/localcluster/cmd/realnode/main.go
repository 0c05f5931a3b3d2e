// Command realnode does the API server's side of the local cluster's real
// node for node.sh: it waits for the node to be Ready, starts the
// cluster's DNS on it and adds the default StorageClass (up), and takes every pod off it while its kubelet
// still runs, so that the network plugin frees their addresses and
// interfaces (drain), then removes the node and the DNS (forget).
//
//	realnode up|drain|forget KUBECONFIG NODE
package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

//go:embed coredns.yaml
var corednsManifests []byte

//go:embed storage.yaml
var storageManifests []byte

// prometheusManifests name the node's address as NODE_IP.
//
//go:embed prometheus.yaml
var prometheusManifests []byte

// addons are what up adds to the cluster and forget removes.
var addons = [][]byte{corednsManifests, storageManifests, prometheusManifests}

const fieldManager = "kdrill-localcluster"

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: realnode up|drain|forget KUBECONFIG NODE")
		os.Exit(2)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Args[2])
	if err == nil {
		cfg.Timeout = 15 * time.Second
		err = run(os.Args[1], cfg, os.Args[3])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "realnode:", err)
		os.Exit(1)
	}
}

func run(cmd string, cfg *rest.Config, node string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	switch cmd {
	case "up":
		if err := waitReady(ctx, cs, node); err != nil {
			return err
		}
		ip, err := nodeIP(ctx, cs, node)
		if err != nil {
			return err
		}
		for _, m := range addons {
			if err := apply(ctx, cfg, bytes.ReplaceAll(m, []byte("NODE_IP"), []byte(ip))); err != nil {
				return fmt.Errorf("adding the cluster's DNS, storage and Prometheus: %w", err)
			}
		}
		if err := waitDNS(ctx, cs); err != nil {
			return err
		}
		return waitPodReady(ctx, cs, "monitoring", "app=prometheus", "the cluster's Prometheus (monitoring/prometheus)")
	case "drain":
		return drain(ctx, cs, node)
	case "forget":
		return forget(ctx, cfg, cs, node)
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// poll calls f every half second until it says done, fails, or ctx ends;
// then it says what it was waiting for and what it saw last.
func poll(ctx context.Context, what string, f func() (bool, string, error)) error {
	last := ""
	for {
		done, seen, err := f()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		last = seen
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last seen: %s)", what, ctx.Err(), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func waitReady(ctx context.Context, cs kubernetes.Interface, node string) error {
	return poll(ctx, "node "+node+" to be Ready", func() (bool, string, error) {
		n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue, c.Reason + ": " + c.Message, nil
			}
		}
		return false, "no Ready condition yet", nil
	})
}

func waitDNS(ctx context.Context, cs kubernetes.Interface) error {
	return waitPodReady(ctx, cs, "kube-system", "k8s-app=kube-dns", "the cluster's DNS (kube-system/coredns)")
}

// nodeIP is the node's InternalIP, which its kubelet serves on.
func nodeIP(ctx context.Context, cs kubernetes.Interface, node string) (string, error) {
	n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address, nil
		}
	}
	return "", fmt.Errorf("node %s has no InternalIP", node)
}

// waitPodReady waits until a pod of the selector in ns is Ready.
func waitPodReady(ctx context.Context, cs kubernetes.Interface, ns, selector, what string) error {
	return poll(ctx, what+" to be ready", func() (bool, string, error) {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err.Error(), nil
		}
		seen := "no pod yet"
		for _, p := range pods.Items {
			seen = fmt.Sprintf("pod %s is %s", p.Name, p.Status.Phase)
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
					return true, "", nil
				}
			}
		}
		return false, seen, nil
	})
}

// apply creates or updates every object in a multi-document YAML stream
// by server-side apply.
func apply(ctx context.Context, cfg *rest.Config, manifests []byte) error {
	objs, err := decode(manifests)
	if err != nil {
		return err
	}
	dyn, mapper, err := dynamicClient(cfg)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		ri, err := resourceFor(dyn, mapper, obj)
		if err != nil {
			return err
		}
		if _, err := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
			return fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
	}
	return nil
}

func decode(manifests []byte) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}

func dynamicClient(cfg *rest.Config) (dynamic.Interface, *restmapper.DeferredDiscoveryRESTMapper, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	disc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return dyn, restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc.Discovery())), nil
}

func resourceFor(dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, err
	}
	if obj.GetNamespace() != "" {
		return dyn.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
	}
	return dyn.Resource(m.Resource), nil
}

// drain cordons the node, so that no controller's replacement lands
// there, and deletes its pods at once, waiting until the kubelet has
// torn each down (the pod is gone from the API).
func drain(ctx context.Context, cs kubernetes.Interface, node string) error {
	cordon := []byte(`{"spec":{"unschedulable":true}}`)
	if _, err := cs.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, cordon, metav1.PatchOptions{FieldManager: fieldManager}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	selector := metav1.ListOptions{FieldSelector: "spec.nodeName=" + node}
	zero := int64(0)
	return poll(ctx, "the pods on "+node+" to be gone", func() (bool, string, error) {
		pods, err := cs.CoreV1().Pods("").List(ctx, selector)
		if err != nil {
			return false, err.Error(), nil
		}
		for _, p := range pods.Items {
			err := cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
			if err != nil && !apierrors.IsNotFound(err) {
				return false, err.Error(), nil
			}
		}
		return len(pods.Items) == 0, fmt.Sprintf("%d pods left", len(pods.Items)), nil
	})
}

// forget removes the node and the objects up added, once the node's
// kubelet has stopped.
func forget(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, node string) error {
	if err := cs.CoreV1().Nodes().Delete(ctx, node, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	var objs []*unstructured.Unstructured
	for _, m := range addons {
		o, err := decode(m)
		if err != nil {
			return err
		}
		objs = append(objs, o...)
	}
	dyn, mapper, err := dynamicClient(cfg)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		ri, err := resourceFor(dyn, mapper, obj)
		if err != nil {
			return err
		}
		if err := ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
	}
	return nil
}
