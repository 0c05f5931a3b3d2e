package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/step"
)

func leftoversCommand() *cli.Command {
	return &cli.Command{
		Name:  "leftovers",
		Usage: "list, or remove, the namespaces runs made and left behind (a run killed before its cleanup, an outage during it)",
		Description: "Every namespace kdrill creates carries the label " + step.LabelManagedBy + "=kdrill and the scenario's name (" +
			step.LabelScenario + "). leftovers lists them with their scenario and age; --delete removes those older than " +
			"--older-than, so the namespaces of runs still going on the cluster are left alone. Nodes a run changed are put back by kdrill restore.",
		Flags: append(kubeconfigFlags(),
			&cli.StringFlag{Name: "selector", Aliases: []string{"l"}, Usage: "only namespaces with these labels too, e.g. -l kdrill.dev/scenario=poisson-kill"},
			&cli.BoolFlag{Name: "delete", Usage: "delete the leftover namespaces listed"},
			&cli.DurationFlag{Name: "older-than", Value: 30 * time.Minute, Usage: "with --delete, only namespaces at least this old (a run may still use a younger one)"},
			&cli.DurationFlag{Name: "timeout", Value: time.Minute, Usage: "give up after this long"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("leftovers takes no arguments, got %q", c.Args().First())
			}
			if c.Duration("older-than") < 0 {
				return usagef("--older-than must not be negative")
			}
			cluster, err := kube.Connect(kube.Connection{Kubeconfig: c.String("kubeconfig"), Context: c.String("context")})
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
			defer cancel()
			selector := step.LabelManagedBy + "=kdrill"
			if extra := c.String("selector"); extra != "" {
				if _, err := labels.Parse(extra); err != nil {
					return usagef("--selector %q: %v", extra, err)
				}
				selector += "," + extra
			}
			return leftovers(ctx, c.App.Writer, cluster, selector, c.Bool("delete"), c.Duration("older-than"), time.Now())
		},
	}
}

// leftovers lists kdrill's namespaces and, when asked, deletes those old
// enough.
func leftovers(ctx context.Context, w io.Writer, c *kube.Cluster, selector string, remove bool, olderThan time.Duration, now time.Time) error {
	list, err := c.Typed.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return &kube.InfraError{Err: fmt.Errorf("list namespaces: %w", err)}
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool { return items[i].CreationTimestamp.Before(&items[j].CreationTimestamp) })
	if len(items) == 0 {
		fmt.Fprintln(w, "nothing left behind: no namespace carries kdrill's label")
		return nil
	}
	var failed []string
	for _, ns := range items {
		age := now.Sub(ns.CreationTimestamp.Time)
		line := fmt.Sprintf("namespace %s  scenario %s  age %s", ns.Name, ns.Labels[step.LabelScenario], duration.HumanDuration(age))
		if ns.Status.Phase == corev1.NamespaceTerminating {
			line += "  (being deleted)"
		}
		switch {
		case !remove:
		case age < olderThan:
			line += fmt.Sprintf("  kept: younger than --older-than %s", olderThan)
		default:
			if err := c.Typed.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				line += "  NOT deleted: " + err.Error()
				failed = append(failed, ns.Name)
			} else {
				line += "  deleted"
			}
		}
		fmt.Fprintln(w, message.Printable(line))
	}
	if len(failed) > 0 {
		return &kube.InfraError{Err: fmt.Errorf("%d namespace(s) not deleted", len(failed))}
	}
	return nil
}
