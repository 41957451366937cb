package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Env returns the environment variables a process needs to reach the
// sandbox as p: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (temporary keys only) and
// AWS_REGION, each as NAME=value.
func (sb *Sandbox) Env(p Principal) []string {
	env := []string{
		"AWS_ENDPOINT_URL=" + sb.URL,
		"AWS_ACCESS_KEY_ID=" + p.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + p.SecretAccessKey,
	}
	if p.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+p.SessionToken)
	}
	return append(env, "AWS_REGION="+Region)
}

// servicesSection names the services section WriteAWSConfig writes.
const servicesSection = "xacct-sandbox"

// ProfileSpec is one named profile of [Sandbox.WriteAWSConfig]: static
// keys when RoleARN is empty, an assume-role profile otherwise.
type ProfileSpec struct {
	// Principal supplies the static keys of a key profile.
	Principal Principal
	// RoleARN makes the profile assume this role with the credentials of
	// SourceProfile.
	RoleARN string
	// SourceProfile names the profile whose credentials assume the role;
	// required with RoleARN.
	SourceProfile string
	// ExternalID is sent as sts:ExternalId; optional.
	ExternalID string
	// RoleSessionName names the session; the SDK invents one if empty.
	RoleSessionName string
	// MFASerial is written as mfa_serial: the SDK then sends it with a
	// code from the AssumeRole token provider the loader is given, and
	// refuses to load the profile without one. Optional.
	MFASerial string
	// DurationSeconds is written as duration_seconds, the session length
	// the profile asks for; 0 leaves it out (the SDK then asks for 15
	// minutes, and it ignores values of 15 minutes or less). Negative
	// values are refused.
	DurationSeconds int
}

// WriteAWSConfig writes an AWS shared config file and a shared
// credentials file into dir, one profile per entry, each with the
// sandbox's region and endpoint_url (also per service, in a services
// section, which the SDK's assume-role STS client needs) and S3 path-style
// addressing for tools that read it (the Go SDK does not: set
// UsePathStyle). It returns both paths, for
// config.WithSharedConfigFiles and config.WithSharedCredentialsFiles or
// AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE. The files hold secret
// keys: dir should be a test's temporary directory.
func (sb *Sandbox) WriteAWSConfig(dir string, profiles map[string]ProfileSpec) (configFile, credentialsFile string, err error) {
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	var cfg, creds strings.Builder
	for _, name := range names {
		p := profiles[name]
		if strings.ContainsAny(name, "[]\n \t") || name == "" {
			return "", "", fmt.Errorf("sandbox: profile name %q: must be one word", name)
		}
		section := "profile " + name
		if name == "default" {
			section = name
		}
		fmt.Fprintf(&cfg, "[%s]\nregion = %s\nendpoint_url = %s\nservices = %s\n", section, Region, sb.URL, servicesSection)
		if p.RoleARN != "" {
			if _, ok := profiles[p.SourceProfile]; !ok {
				return "", "", fmt.Errorf("sandbox: profile %q: source_profile %q is not among the profiles", name, p.SourceProfile)
			}
			fmt.Fprintf(&cfg, "role_arn = %s\nsource_profile = %s\n", p.RoleARN, p.SourceProfile)
			if p.ExternalID != "" {
				fmt.Fprintf(&cfg, "external_id = %s\n", p.ExternalID)
			}
			if p.RoleSessionName != "" {
				fmt.Fprintf(&cfg, "role_session_name = %s\n", p.RoleSessionName)
			}
			if p.MFASerial != "" {
				fmt.Fprintf(&cfg, "mfa_serial = %s\n", p.MFASerial)
			}
			if p.DurationSeconds < 0 {
				return "", "", fmt.Errorf("sandbox: profile %q: duration_seconds %d: must not be negative", name, p.DurationSeconds)
			}
			if p.DurationSeconds > 0 {
				fmt.Fprintf(&cfg, "duration_seconds = %d\n", p.DurationSeconds)
			}
		} else {
			if p.MFASerial != "" || p.DurationSeconds != 0 {
				return "", "", fmt.Errorf("sandbox: profile %q: mfa_serial and duration_seconds need a RoleARN", name)
			}
			fmt.Fprintf(&creds, "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", name, p.Principal.AccessKeyID, p.Principal.SecretAccessKey)
			if p.Principal.SessionToken != "" {
				fmt.Fprintf(&creds, "aws_session_token = %s\n", p.Principal.SessionToken)
			}
			creds.WriteString("\n")
		}
		cfg.WriteString("s3 =\n  addressing_style = path\n\n")
	}
	// The Go SDK builds the STS client of an assume-role profile before it
	// reads the profile's endpoint_url, but it does read a services
	// section's per-service endpoint_url.
	fmt.Fprintf(&cfg, "[services %s]\n", servicesSection)
	for _, svc := range []string{"s3", "sts", "iam"} {
		fmt.Fprintf(&cfg, "%s =\n  endpoint_url = %s\n", svc, sb.URL)
	}
	configFile = filepath.Join(dir, "config")
	credentialsFile = filepath.Join(dir, "credentials")
	if err := os.WriteFile(configFile, []byte(cfg.String()), 0o600); err != nil {
		return "", "", fmt.Errorf("sandbox: write config: %w", err)
	}
	if err := os.WriteFile(credentialsFile, []byte(creds.String()), 0o600); err != nil {
		return "", "", fmt.Errorf("sandbox: write credentials: %w", err)
	}
	return configFile, credentialsFile, nil
}
