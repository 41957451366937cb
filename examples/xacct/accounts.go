package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/xacct/xacct"
)

// accounts holds the configuration of the two accounts a replication or a
// DataSync task spans. dst is nil when no destination identity was given:
// the destination account's part is then left to its owners.
type accounts struct {
	src aws.Config
	dst *aws.Config
}

// hasDestination reports whether the flags name an identity of the
// destination account. --profile and --role-arn alone name the source:
// one principal rarely administers two accounts.
func (f identityFlags) hasDestination() bool { return f.destProfile != "" || f.destRoleARN != "" }

// accounts loads the configuration of the source account and, when the
// flags name one, of the destination account.
func (a *app) accounts(ctx context.Context, f identityFlags) (accounts, error) {
	if err := f.validate(); err != nil {
		return accounts{}, err
	}
	src, err := a.sideConfig(ctx, f.source(a.flags.profile), 0)
	if err != nil {
		return accounts{}, fmt.Errorf("source: %w", err)
	}
	acc := accounts{src: src}
	if f.hasDestination() {
		dst, err := a.sideConfig(ctx, f.destination(a.flags.profile), 0)
		if err != nil {
			return accounts{}, fmt.Errorf("destination: %w", err)
		}
		acc.dst = &dst
	}
	return acc, nil
}

// sourceRegion returns the region of the source side's profile, for a
// spec given by flags without --region. Loading makes no request.
func (a *app) sourceRegion(ctx context.Context, f identityFlags) (string, error) {
	g := a.flags
	g.profile = f.source(a.flags.profile).profile
	cfg, err := a.configFor(ctx, g, 0)
	if err != nil {
		return "", err
	}
	return cfg.Region, nil
}

// newS3Control returns an S3 Control client for cfg. S3 Control puts the
// account ID in front of the endpoint's host; a custom endpoint (a local
// sandbox, a proxy) seldom serves such names, so with one the host is
// used as given and the account ID travels in the x-amz-account-id header
// only.
func newS3Control(cfg aws.Config) *s3control.Client {
	return s3control.NewFromConfig(cfg, func(o *s3control.Options) {
		if cfg.BaseEndpoint != nil {
			o.EndpointResolverV2 = hostAsGiven{s3control.NewDefaultEndpointResolverV2()}
		}
	})
}

// hostAsGiven resolves S3 Control endpoints without the account ID
// prefix of the host.
type hostAsGiven struct{ next s3control.EndpointResolverV2 }

func (r hostAsGiven) ResolveEndpoint(ctx context.Context, p s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	ep, err := r.next.ResolveEndpoint(ctx, p)
	if err == nil && p.AccountId != nil {
		ep.URI.Host = strings.TrimPrefix(ep.URI.Host, *p.AccountId+".")
	}
	return ep, err
}

// readSpecFile decodes the JSON or YAML spec in path into v, refusing
// unknown fields so that a misspelt one is not silently ignored. YAML
// (a .yaml or .yml file) uses the JSON field names: it is read into
// plain values and re-encoded as JSON, so both forms go through the same
// decoder and mean the same thing.
func readSpecFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return usageError{fmt.Errorf("--spec: %w", err)}
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		var doc any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return usageError{fmt.Errorf("--spec %s: %w", path, err)}
		}
		if b, err = json.Marshal(doc); err != nil {
			return usageError{fmt.Errorf("--spec %s: %w", path, err)}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return usageError{fmt.Errorf("--spec %s: %w", path, err)}
	}
	return nil
}

// specConflict refuses spec flags next to --spec: the file is the whole
// spec, and a flag silently overriding one of its fields would surprise.
func specConflict(fs *pflag.FlagSet, names []string) error {
	for _, n := range names {
		if fs.Changed(n) {
			return usageError{fmt.Errorf("--spec and --%s cannot be used together: put the value in the spec file", n)}
		}
	}
	return nil
}

// flagNamedErrors puts in front of the Field of each
// *xacct.ValidationError in err the flag that set it, as flag(field)
// names it, so that a spec given by flags is explained in flags. A flag
// that sets a field of every rule is reported once.
func flagNamedErrors(err error, flag func(field string) string) error {
	var all []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		all = j.Unwrap()
	} else {
		all = []error{err}
	}
	seen := map[string]bool{}
	var out []error
	for _, e := range all {
		key := e.Error()
		var ve *xacct.ValidationError
		if errors.As(e, &ve) {
			if name := flag(ve.Field); name != "" {
				key = name + "\x00" + ve.Value + "\x00" + ve.Rule
				copied := *ve
				copied.Field = name + " (" + ve.Field + ")"
				e = &copied
			}
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, e)
		}
	}
	return errors.Join(out...)
}
