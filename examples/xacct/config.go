package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
)

// defaultRegion is used when neither a flag, the environment nor the
// shared config names one; S3 and STS accept any region for global calls.
const defaultRegion = "us-east-1"

// minIdleConns is the idle connection pool a client keeps per host even
// for a single request, the net/http default for the SDK.
const minIdleConns = 10

// globalFlags are the flags every command accepts.
type globalFlags struct {
	profile     string
	region      string
	endpointURL string
	debug       bool
}

// loadConfig resolves the AWS configuration the way aws-cli does: flags
// first, then the SDK's environment variables and shared files. conns is
// how many requests the caller runs at once; the HTTP transport keeps that
// many idle connections per host so a parallel sync does not reconnect
// for every object.
// The SDK's own log lines go to log at debug level.
func loadConfig(ctx context.Context, g globalFlags, conns int, log *slog.Logger) (aws.Config, error) {
	conns = max(conns, minIdleConns)
	client := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = conns
		t.MaxIdleConns = conns
	})
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(client), config.WithLogger(sdkLogger(log))}
	if g.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(g.profile))
	}
	if g.region != "" {
		opts = append(opts, config.WithRegion(g.region))
	}
	if g.endpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(g.endpointURL))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	return cfg, nil
}

// newS3 returns an S3 client for cfg. A custom endpoint (MinIO, a local
// sandbox…) rarely serves virtual-hosted bucket names, so path-style
// addressing is used whenever one is set. The SDK's note that it skipped
// checksum validation (ranged reads, multipart objects) is not logged:
// the copier verifies copies itself, and the note would show once per
// object under --debug.
func newS3(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = cfg.BaseEndpoint != nil
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}

// newSTS returns an STS client for cfg.
func newSTS(cfg aws.Config) *sts.Client { return sts.NewFromConfig(cfg) }

// sdkLogger passes the SDK's log lines (retries, skipped checksum
// validation…) to log at debug level: by default the SDK writes them to
// stderr itself, where they would mix with the command's output.
func sdkLogger(log *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		log.LogAttrs(context.Background(), slog.LevelDebug, fmt.Sprintf(format, v...),
			slog.String("source", "aws-sdk"), slog.String("class", string(c)))
	})
}

// newLogger returns a debug logger on w when debug is set, and a logger
// that discards everything otherwise.
func newLogger(w io.Writer, debug bool) *slog.Logger {
	if !debug {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// configFor loads the AWS configuration for a command that runs up to
// conns requests at once, from g: the command line's flags, with the
// profile of one side of a copy.
func (a *app) configFor(ctx context.Context, g globalFlags, conns int) (aws.Config, error) {
	log := a.logger()
	cfg, err := loadConfig(ctx, g, conns, log)
	if err != nil {
		return cfg, err
	}
	log.LogAttrs(ctx, slog.LevelDebug, "aws config",
		slog.String("region", cfg.Region),
		slog.String("endpoint", aws.ToString(cfg.BaseEndpoint)),
		slog.String("profile", g.profile))
	return cfg, nil
}
