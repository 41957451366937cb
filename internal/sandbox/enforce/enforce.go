// Package enforce connects the sandbox to xacct's policy evaluator, so the
// sandbox refuses what AWS would refuse.
//
// It is the one internal package that imports the root package: the
// sandbox itself knows nothing of policies (it asks an Authorizer), and the
// evaluator lives in the root package because users call it too. Keeping
// the glue here lets tests and the demo share it without the library
// importing the sandbox.
package enforce

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// Authorizer returns a sandbox.Authorizer that decides each request with
// xacct.Evaluate over the caller's identity policies and the resource
// policy. Parsed documents are cached by their text, so each policy is
// parsed once however many requests it decides.
func Authorizer() sandbox.Authorizer {
	var cache sync.Map // policy JSON → *xacct.Policy or error
	parse := func(doc string) (*xacct.Policy, error) {
		if v, ok := cache.Load(doc); ok {
			if err, isErr := v.(error); isErr {
				return nil, err
			}
			return v.(*xacct.Policy), nil
		}
		p, err := xacct.ParsePolicy([]byte(doc))
		if err != nil {
			cache.Store(doc, err)
			return nil, err
		}
		cache.Store(doc, p)
		return p, nil
	}
	return func(_ context.Context, req *sandbox.AccessRequest) (bool, string) {
		identity := make([]xacct.Policy, 0, len(req.IdentityPolicies))
		for _, doc := range req.IdentityPolicies {
			p, err := parse(doc)
			if err != nil {
				return false, "an identity-based policy does not parse: " + err.Error()
			}
			identity = append(identity, *p)
		}
		var resource *xacct.Policy
		if req.ResourcePolicy != "" {
			p, err := parse(req.ResourcePolicy)
			if err != nil {
				return false, "the resource-based policy does not parse: " + err.Error()
			}
			resource = p
		}
		d := xacct.Evaluate(xacct.Request{
			Principal: xacct.PrincipalInfo{
				ARN:     req.PrincipalARN,
				Account: req.PrincipalAccount,
				Service: req.PrincipalService,
				IsRoot:  req.PrincipalIsRoot,
			},
			Action:          req.Action,
			Resource:        req.Resource,
			ResourceAccount: req.ResourceAccount,
			Context:         req.Context,
		}, identity, resource)
		return d.Allowed, d.Reason
	}
}

// PolicyValidator returns a sandbox.PolicyValidator that refuses what
// xacct.ParsePolicy refuses (bad JSON shape, unknown elements, bad Effect,
// missing Action, unknown Version, …) and what AWS refuses for the kind of
// document: a bucket or trust policy statement without Principal or
// NotPrincipal, an identity policy statement with one.
func PolicyValidator() sandbox.PolicyValidator {
	return func(kind sandbox.PolicyKind, doc string) error {
		p, err := xacct.ParsePolicy([]byte(doc))
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		var errs []error
		for i, st := range p.Statement {
			named := st.Principal != nil || st.NotPrincipal != nil
			field := fmt.Sprintf("Statement[%d].Principal", i)
			switch {
			case kind == sandbox.PolicyIdentity && named:
				errs = append(errs, &xacct.ValidationError{Field: field, Rule: "an identity policy must not specify a principal", Err: xacct.ErrInvalidPolicy})
			case kind != sandbox.PolicyIdentity && !named:
				errs = append(errs, &xacct.ValidationError{Field: field, Rule: "a " + kind.String() + " must name a Principal or NotPrincipal", Err: xacct.ErrInvalidPolicy})
			}
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		return nil
	}
}

// Start runs a sandbox that enforces policies from the first request and
// refuses invalid policy documents as AWS does.
func Start(opts ...sandbox.Option) (*sandbox.Sandbox, error) {
	sb, err := sandbox.Start(opts...)
	if err != nil {
		return nil, err
	}
	sb.SetAuthorizer(Authorizer())
	sb.SetPolicyValidator(PolicyValidator())
	return sb, nil
}
