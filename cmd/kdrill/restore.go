package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/internal/nodestate"
	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/step"
	"github.com/kdrill/kdrill/steps"
)

func restoreCommand() *cli.Command {
	return &cli.Command{
		Name:  "restore",
		Usage: "undo what kdrill did to shared objects (node cordons, taints and failures; network partitions) that a run killed before its cleanup left behind",
		Description: "Every node a node step changes carries, from the moment of the change, a record of what it was before " +
			"(the annotation " + nodestate.Annotation + "). restore finds every node that carries one, puts it back and removes " +
			"the record, and removes every NetworkPolicy a partition step made (the label " + steps.PartitionLabel + "), in every " +
			"namespace; running it again does nothing. It prints what it restored.",
		Flags: append(kubeconfigFlags(),
			&cli.StringFlag{Name: "selector", Aliases: []string{"l"}, Usage: "restore only the nodes with these labels, e.g. -l pool=drills (and no partition, unless --namespace is given too)"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "remove only the partitions in this namespace (and restore no node, unless --selector is given too)"},
			&cli.DurationFlag{Name: "timeout", Value: time.Minute, Usage: "give up after this long"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("restore takes no arguments, got %q", c.Args().First())
			}
			cluster, err := kube.Connect(kube.Connection{Kubeconfig: c.String("kubeconfig"), Context: c.String("context")})
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
			defer cancel()
			selector, namespace := c.String("selector"), c.String("namespace")
			var done []string
			if selector != "" || namespace == "" {
				done, err = nodestate.RestoreAll(ctx, cluster.Typed, selector)
			}
			if namespace != "" || selector == "" {
				healed, herr := healPartitions(ctx, cluster, namespace)
				done = append(done, healed...)
				err = errors.Join(err, herr)
			}
			for _, d := range done {
				fmt.Fprintln(c.App.Writer, "restored", d)
			}
			if err != nil {
				return &kube.InfraError{Err: err}
			}
			if len(done) == 0 {
				fmt.Fprintln(c.App.Writer, "nothing to restore: no node carries kdrill's record and no partition is left")
			}
			return nil
		},
	}
}

// healPartitions removes the NetworkPolicies partition steps made, in the
// namespace ("": in every one).
func healPartitions(ctx context.Context, cluster *kube.Cluster, namespace string) ([]string, error) {
	client := cluster.Typed.NetworkingV1()
	list, err := client.NetworkPolicies(namespace).List(ctx, metav1.ListOptions{LabelSelector: step.LabelManagedBy + "=kdrill," + steps.PartitionLabel})
	if err != nil {
		return nil, fmt.Errorf("list partition policies: %w", err)
	}
	var done []string
	var errs []error
	for _, np := range list.Items {
		err := client.NetworkPolicies(np.Namespace).Delete(ctx, np.Name, metav1.DeleteOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			errs = append(errs, fmt.Errorf("NetworkPolicy %s/%s: %w", np.Namespace, np.Name, err))
		default:
			done = append(done, fmt.Sprintf("NetworkPolicy %s/%s: removed the partition %s", np.Namespace, np.Name, np.Labels[steps.PartitionLabel]))
		}
	}
	return done, errors.Join(errs...)
}
