package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kdrill/kdrill/internal/nodestate"
	"github.com/kdrill/kdrill/kube"
)

func restoreCommand() *cli.Command {
	return &cli.Command{
		Name:  "restore",
		Usage: "undo what kdrill did to nodes (cordons, taints, failures) that a run killed before its cleanup left behind",
		Description: "Every node a node step changes carries, from the moment of the change, a record of what it was before " +
			"(the annotation " + nodestate.Annotation + "). restore finds every node that carries one, puts it back and removes " +
			"the record; running it again does nothing. It prints what it restored.",
		Flags: append(kubeconfigFlags(),
			&cli.StringFlag{Name: "selector", Aliases: []string{"l"}, Usage: "restore only the nodes with these labels, e.g. -l pool=drills"},
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
			done, err := nodestate.RestoreAll(ctx, cluster.Typed, c.String("selector"))
			for _, d := range done {
				fmt.Fprintln(c.App.Writer, "restored", d)
			}
			if err != nil {
				return &kube.InfraError{Err: err}
			}
			if len(done) == 0 {
				fmt.Fprintln(c.App.Writer, "nothing to restore: no node carries kdrill's record")
			}
			return nil
		},
	}
}
