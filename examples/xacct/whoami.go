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
	var ids identityFlags
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show the account, ARN and user id behind the current credentials",
		Long: `Whoami asks STS who the credentials belong to. With --source-profile,
--dest-profile or a role flag, it shows the identity of each side of a copy,
as sync would use them.`,
		Example: `  xacct whoami --profile ops
  xacct whoami --profile ops --role-arn arn:aws:iam::111111111111:role/xacct-copy --external-id 5f1c
  xacct whoami --source-profile a --dest-profile b --json`,
		Args: argsBetween(0, 0),
		RunE: a.runE(func(ctx context.Context, _ []string) error {
			s, err := a.sides(ctx, ids, 0)
			if err != nil {
				return err
			}
			if !ids.split() {
				return runWhoAmI(ctx, newSTS(s.src), asJSON, a.out)
			}
			return runWhoAmIBoth(ctx, newSTS(s.src), newSTS(s.dst), asJSON, a.out)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the identity as JSON")
	ids.register(cmd.Flags())
	return cmd
}

// runWhoAmI prints the caller's identity on w.
func runWhoAmI(ctx context.Context, client xacct.GetCallerIdentityAPI, asJSON bool, w io.Writer) error {
	id, err := xacct.WhoAmI(ctx, client)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(w, id)
	}
	_, err = fmt.Fprint(w, identityText(id, ""))
	return err
}

// runWhoAmIBoth prints the identities of the source and destination
// sides on w.
func runWhoAmIBoth(ctx context.Context, src, dst xacct.GetCallerIdentityAPI, asJSON bool, w io.Writer) error {
	srcID, err := xacct.WhoAmI(ctx, src)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	dstID, err := xacct.WhoAmI(ctx, dst)
	if err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	if asJSON {
		return writeJSON(w, struct {
			Source      xacct.Identity `json:"source"`
			Destination xacct.Identity `json:"destination"`
		}{srcID, dstID})
	}
	_, err = fmt.Fprint(w, "Source:\n"+identityText(srcID, "  ")+"Destination:\n"+identityText(dstID, "  "))
	return err
}

// identityText renders an identity on three lines, each starting with
// indent.
func identityText(id xacct.Identity, indent string) string {
	return fmt.Sprintf("%sAccount: %s\n%sARN:     %s\n%sUserId:  %s\n", indent, id.Account, indent, id.ARN, indent, id.UserID)
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
