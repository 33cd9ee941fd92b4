package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newImagesCmd) }

func imagesTable(list []wire.Image) *table {
	t := &table{header: []string{"name", "runtime", "ref", "digest", "gpu", "default", "containers", "title"}}
	for _, im := range list {
		t.add(im.Name, im.Runtime, dash(im.Ref), dash(im.Digest), fmt.Sprint(im.GPU), fmt.Sprint(im.Default), fmt.Sprint(im.Containers), dash(im.Title))
	}
	return t
}

func newImagesCmd(env *Env, g *globals) *cobra.Command {
	list := &cobra.Command{
		Use: "list", Short: "List the catalogue: each image with its reference and pinned digest (needs list_mltk_container)", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) ([]wire.Image, error) {
			return c.Images(cmd.Context())
		}, imagesTable),
	}
	show := &cobra.Command{
		Use: "show NAME", Short: "Show a catalogue entry (needs list_mltk_container)", Args: needArgs(1, "the image's NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.Image, error) {
			return c.Image(cmd.Context(), args[0])
		}, func(im wire.Image) *table {
			t := imagesTable([]wire.Image{im})
			t.header = append(t.header, "policy")
			t.rows[0] = append(t.rows[0], dash(im.Policy))
			return t
		}),
	}
	remove := env.deleteCmd(g, deleteSpec{
		use: "remove NAME", short: "Remove a catalogue entry no container uses (needs configure_mltk_container)",
		argWhat: "the image's NAME", noun: "image", remove: true,
		del: func(cmd *cobra.Command, c *client.Client, name string) error {
			return c.RemoveImage(cmd.Context(), name)
		},
	})
	return group("images", "The image catalogue: the images containers start from, pinned by digest",
		append([]*cobra.Command{newImagesAddCmd(env, g), list, show, newImagesUpdateCmd(env, g), remove,
			newImagesScanCmd(env, g), newImagesPolicyCmd(env, g), newImagesAllowCmd(env, g), newImagesBuildCmd(env, g)},
			moreImagesCmds(env, g)...)...)
}

// imagesCmds are more subcommands of images, each added by its own file's
// init.
var imagesCmds []func(env *Env, g *globals) *cobra.Command

func moreImagesCmds(env *Env, g *globals) []*cobra.Command {
	var out []*cobra.Command
	for _, f := range imagesCmds {
		out = append(out, f(env, g))
	}
	return out
}

func newImagesAddCmd(env *Env, g *globals) *cobra.Command {
	var req wire.ImageAdd
	cmd := &cobra.Command{
		Use: "add NAME --ref REF [--title T] [--gpu] [--runtime docker|kubernetes|process] [--cert NAME]",
		Short: "Add an image to the catalogue, pinned to the digest REF names now (needs configure_mltk_container). " +
			"REF is HOST[:PORT]/REPO:TAG in a registry, or an image on the Docker host",
		Args: needArgs(1, "the new image's NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.Image, error) {
			req.Name = args[0]
			if req.Ref == "" && req.Runtime != "process" {
				return wire.Image{}, usagef("%s needs --ref REF: a registry reference HOST[:PORT]/REPO:TAG, or an image on the Docker host (docker images)", cmd.CommandPath())
			}
			im, err := c.AddImage(cmd.Context(), req)
			env.noteScan(im)
			return im, err
		}, one(imagesTable)),
	}
	cmd.Flags().StringVar(&req.Ref, "ref", "", "the image: HOST[:PORT]/REPO:TAG (or @sha256:DIGEST) in a registry, or REPO:TAG on the Docker host")
	cmd.Flags().StringVar(&req.Title, "title", "", "a title shown in listings")
	cmd.Flags().BoolVar(&req.GPU, "gpu", false, "the image is built for GPUs")
	cmd.Flags().StringVar(&req.Runtime, "runtime", "docker", "the runtime it runs on: docker, kubernetes (a registry image the cluster pulls) or process (the dockyard executable; no --ref)")
	cmd.Flags().StringVar(&req.Cert, "cert", "", "an operator certificate pair NAME.pem/NAME.key in containers.certs_dir that its containers' agents serve (checked now)")
	return cmd
}

func newImagesUpdateCmd(env *Env, g *globals) *cobra.Command {
	var ref, title, cert string
	var gpu bool
	cmd := &cobra.Command{
		Use:   "update NAME [--ref REF] [--title T] [--gpu=true|false] [--cert NAME]",
		Short: "Re-pin an image to the digest its reference (or the new --ref) names now, and change its title or GPU mark (needs configure_mltk_container)",
		Args:  needArgs(1, "the image's NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.Image, error) {
			var req wire.ImageUpdate
			if cmd.Flags().Changed("ref") {
				req.Ref = &ref
			}
			if cmd.Flags().Changed("title") {
				req.Title = &title
			}
			if cmd.Flags().Changed("gpu") {
				req.GPU = &gpu
			}
			if cmd.Flags().Changed("cert") {
				req.Cert = &cert
			}
			im, err := c.UpdateImage(cmd.Context(), args[0], req)
			env.noteScan(im)
			return im, err
		}, one(imagesTable)),
	}
	cmd.Flags().StringVar(&ref, "ref", "", "a new reference to resolve and pin")
	cmd.Flags().StringVar(&title, "title", "", "a new title")
	cmd.Flags().BoolVar(&gpu, "gpu", false, "whether the image is built for GPUs")
	cmd.Flags().StringVar(&cert, "cert", "", "another operator certificate pair in containers.certs_dir (\"\" for one the server CA issues)")
	return cmd
}
