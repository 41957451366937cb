package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/xacct/xacct"
)

func (a *app) whoamiCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show the account, ARN and user id behind the current credentials",
		Args:  argsBetween(0, 0),
		RunE: a.runE(func(ctx context.Context, _ []string) error {
			cfg, err := a.config(ctx, 0)
			if err != nil {
				return err
			}
			return runWhoAmI(ctx, newSTS(cfg), asJSON, a.out)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the identity as JSON")
	return cmd
}

// runWhoAmI prints the caller's identity on w.
func runWhoAmI(ctx context.Context, client xacct.GetCallerIdentityAPI, asJSON bool, w io.Writer) error {
	id, err := xacct.WhoAmI(ctx, client)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(id)
	}
	_, err = fmt.Fprintf(w, "Account: %s\nARN:     %s\nUserId:  %s\n", id.Account, id.ARN, id.UserID)
	return err
}
