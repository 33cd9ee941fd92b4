package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newImagesCmd) }

func newImagesCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "images", Short: "The container images Dockyard knows (needs list_mltk_container)"}
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List images with their runtime, digest and use", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			list, err := c.Images(cmd.Context())
			if err != nil {
				return err
			}
			t := &table{header: []string{"name", "runtime", "digest", "default", "containers"}}
			for _, im := range list {
				d := im.Digest
				if d == "" {
					d = "-"
				}
				t.add(im.Name, im.Runtime, d, fmt.Sprint(im.Default), fmt.Sprint(im.Containers))
			}
			return env.print(g, list, t)
		},
	})
	return cmd
}
