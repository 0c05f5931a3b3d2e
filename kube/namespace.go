package kube

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// RootCAConfigMap is the ConfigMap the controller manager publishes in every
// namespace; pods mount it, and a quota on ConfigMaps counts it.
const RootCAConfigMap = "kube-root-ca.crt"

// WaitNamespaceReady waits, at most limit, until the controller manager has
// given a new namespace its default ServiceAccount and its CA ConfigMap.
// Before then a pod is refused ("serviceaccount default not found") or cannot
// start, and a ResourceQuota applied first refuses the ConfigMap's create while
// its status is unknown: the publisher then backs off for minutes and the
// quota's count is wrong for as long. It reports whether both arrived; a
// cluster without those controllers is not an error, its steps say the rest.
func WaitNamespaceReady(ctx context.Context, typed kubernetes.Interface, ns string, limit time.Duration) bool {
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, limit, true, func(ctx context.Context) (bool, error) {
		// Any error is "not yet", but Forbidden: what kdrill may not read
		// (the shipped role reads no ServiceAccounts) is not waited for.
		_, saErr := typed.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		_, caErr := typed.CoreV1().ConfigMaps(ns).Get(ctx, RootCAConfigMap, metav1.GetOptions{})
		there := func(err error) bool { return err == nil || apierrors.IsForbidden(err) }
		return there(saErr) && there(caErr), nil
	})
	return err == nil
}
