package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/spf13/pflag"

	"github.com/xacct/xacct"
)

// transferFlags are the flags that decide how each object is written, as
// aws s3 cp and sync name them.
type transferFlags struct {
	storageClass string
	sse          string
	kmsKeyID     string
	copyProps    string
	threshold    sizeFlag
	cutoff       sizeFlag
	partSize     sizeFlag
	requestPayer string
	mode         string
}

// transferModes maps --transfer-mode values to the library's modes.
var transferModes = map[string]xacct.TransferMode{
	xacct.ModeAuto.String():       xacct.ModeAuto,
	xacct.ModeServerSide.String(): xacct.ModeServerSide,
	xacct.ModeStream.String():     xacct.ModeStream,
}

// copyPropsNames maps --copy-props values to the library's settings.
var copyPropsNames = map[string]xacct.CopyProps{
	xacct.CopyPropsNone.String():              xacct.CopyPropsNone,
	xacct.CopyPropsMetadataDirective.String(): xacct.CopyPropsMetadataDirective,
	xacct.CopyPropsDefault.String():           xacct.CopyPropsDefault,
	xacct.CopyPropsAll.String():               xacct.CopyPropsAll,
}

// newTransferFlags returns the flags with their defaults.
func newTransferFlags() transferFlags {
	return transferFlags{
		copyProps: xacct.CopyPropsDefault.String(),
		threshold: sizeFlag{n: xacct.DefaultMultipartThreshold},
		mode:      xacct.ModeAuto.String(),
		partSize:  sizeFlag{n: xacct.DefaultPartSize, raw: "8MiB"},
	}
}

// register adds the flags to fs.
func (t *transferFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&t.storageClass, "storage-class", "", "write copies in storage class `CLASS`, such as STANDARD_IA or GLACIER_IR (default: the source's)")
	fs.StringVar(&t.sse, "sse", "", "encrypt copies with `ALG`: AES256, aws:kms or aws:kms:dsse; --sse alone means AES256 (default: the bucket's default)")
	fs.Lookup("sse").NoOptDefVal = string(types.ServerSideEncryptionAes256)
	fs.StringVar(&t.kmsKeyID, "sse-kms-key-id", "", "encrypt copies with KMS key `KEY` (id, ARN or alias ARN); implies --sse aws:kms")
	fs.StringVar(&t.copyProps, "copy-props", t.copyProps, "properties copies keep: none, metadata-directive (metadata and content headers), default (also tags) or all")
	fs.Var(&t.threshold, "multipart-threshold", "copy objects from `SIZE` on in parts, such as 64MB or 1GiB (units are powers of 1024; default 8MiB when streaming, 5GiB server-side)")
	fs.Var(&t.cutoff, "stream-upload-cutoff", "when streaming, write objects from the multipart threshold up to `SIZE` with one unbuffered PutObject and larger ones in parts, up to 5GiB (units are powers of 1024; default 200MiB)")
	fs.Var(&t.partSize, "part-size", "part `SIZE` of multipart copies, 5MiB to 5GiB")
	registerRequestPayer(fs, &t.requestPayer)
	fs.StringVar(&t.mode, "transfer-mode", t.mode, "auto (server-side when the copy identity, or else the destination identity, can read the source; else stream), server-side or stream")
}

// options turns the flags into Copier options. The library checks the
// values; a bad one is a usage error naming the value and the rule.
func (t transferFlags) options() ([]xacct.CopierOption, error) {
	props, ok := copyPropsNames[t.copyProps]
	if !ok {
		return nil, usageError{fmt.Errorf("--copy-props %q: must be none, metadata-directive, default or all", t.copyProps)}
	}
	payer, err := requestPayerOption(t.requestPayer)
	if err != nil {
		return nil, err
	}
	if t.sse != "" && !slices.Contains(optionalValues["--sse"], t.sse) {
		return nil, usageError{fmt.Errorf("--sse %q: server-side encryption must be %s; --sse alone means AES256", t.sse, orList(optionalValues["--sse"]))}
	}
	mode, ok := transferModes[t.mode]
	if !ok {
		return nil, usageError{fmt.Errorf("--transfer-mode %q: must be auto, server-side or stream", t.mode)}
	}
	opts := []xacct.CopierOption{
		xacct.WithTransferMode(mode),
		xacct.WithCopyProps(props),
		xacct.WithStorageClass(types.StorageClass(strings.ToUpper(t.storageClass))),
		xacct.WithSSE(types.ServerSideEncryption(t.sse)),
		xacct.WithSSEKMSKeyID(t.kmsKeyID),
		xacct.WithPartSize(t.partSize.n),
		payer,
	}
	// Unset, the library keeps its own defaults: 8 MiB for streamed
	// uploads but one CopyObject up to 5 GiB for server-side copies.
	if t.threshold.set {
		opts = append(opts, xacct.WithMultipartThreshold(t.threshold.n))
	}
	if t.cutoff.set {
		opts = append(opts, xacct.WithStreamUploadCutoff(t.cutoff.n))
	}
	return opts, nil
}

// registerRequestPayer adds --request-payer, which sync and verify
// share: requester-pays buckets charge the caller only when it says it
// accepts, and --request-payer alone means requester, as in aws-cli.
func registerRequestPayer(fs *pflag.FlagSet, v *string) {
	fs.StringVar(v, "request-payer", "", "accept the charges of requester-pays buckets; the one value, requester, is also what --request-payer alone means")
	fs.Lookup("request-payer").NoOptDefVal = "requester"
}

// requestPayerOption checks a --request-payer value and turns it into
// the Copier option.
func requestPayerOption(v string) (xacct.CopierOption, error) {
	if v != "" && !slices.Contains(optionalValues["--request-payer"], v) {
		return nil, usageError{fmt.Errorf("--request-payer %q: the only value is %s; --request-payer alone means the same", v, orList(optionalValues["--request-payer"]))}
	}
	return xacct.WithRequestPayer(v != ""), nil
}

// orList writes values as "a, b or c".
func orList(values []string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}
