package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newImagesCmd) }

func newImagesCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "images", Short: "The container images Dockyard knows (needs list_mltk_container)"}
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List images with their runtime, digest and use", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.Image, error) {
			return c.Images(cmd.Context())
		}, func(list []wire.Image) *table {
			t := &table{header: []string{"name", "runtime", "digest", "default", "containers"}}
			for _, im := range list {
				t.add(im.Name, im.Runtime, dash(im.Digest), fmt.Sprint(im.Default), fmt.Sprint(im.Containers))
			}
			return t
		}),
	})
	return cmd
}
