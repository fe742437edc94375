// Command sptar-minio-admin gives the pipeline's workers a MinIO user of their own: a canned policy that allows the
// artifact bucket and nothing else, and a user that holds that policy alone. infra/services.sh runs it with the root
// account after MinIO starts; a second run with the same settings leaves everything as it is.
//
// Usage: sptar-minio-admin -endpoint http://127.0.0.1:9000 -bucket sptar-artifacts
//
// Credentials come from the environment, never the command line (where `ps` would show them):
// MINIO_ROOT_USER / MINIO_ROOT_PASSWORD (the root account that manages users) and
// SPTAR_S3_ACCESS_KEY / SPTAR_S3_SECRET_KEY (the workers' user to create or update).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/minio/madmin-go/v3"
)

// workerPolicy is the least the artifact store needs (lib/artifact-store/s3-artifact-store.ts):
//   - on the bucket: HEAD bucket and listing keys (s3:ListBucket), its location, creating it when missing
//     (s3:CreateBucket on this bucket's ARN, so no other bucket), and the in-progress multipart uploads that the
//     minio client looks up before it uploads an object larger than one part, 64 MiB (s3:ListBucketMultipartUploads;
//     without it every such upload is refused);
//   - on its objects: read, write (multipart uploads included), delete, and the parts of an interrupted upload of
//     the same key, which the client resumes (s3:ListMultipartUploadParts).
func workerPolicy(bucket string) ([]byte, error) {
	type statement struct {
		Effect   string   `json:"Effect"`
		Action   []string `json:"Action"`
		Resource []string `json:"Resource"`
	}
	doc := struct {
		Version   string      `json:"Version"`
		Statement []statement `json:"Statement"`
	}{
		Version: "2012-10-17",
		Statement: []statement{
			{
				Effect:   "Allow",
				Action:   []string{"s3:ListBucket", "s3:GetBucketLocation", "s3:CreateBucket", "s3:ListBucketMultipartUploads"},
				Resource: []string{"arn:aws:s3:::" + bucket},
			},
			{
				Effect:   "Allow",
				Action:   []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListMultipartUploadParts"},
				Resource: []string{"arn:aws:s3:::" + bucket + "/*"},
			},
		},
	}
	return json.Marshal(doc)
}

func requireEnv(name string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("%s is not set", name)
	}
	return v, nil
}

func run() error {
	endpoint := flag.String("endpoint", "http://127.0.0.1:9000", "MinIO S3 endpoint (http or https URL)")
	bucket := flag.String("bucket", "sptar-artifacts", "the artifact bucket the worker user may use")
	policyName := flag.String("policy", "", "name of the canned policy (default sptar-worker-<bucket>)")
	timeout := flag.Duration("timeout", 30*time.Second, "time limit for all admin calls together")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(flag.Args(), " "))
	}
	if *policyName == "" {
		*policyName = "sptar-worker-" + *bucket
	}

	u, err := url.Parse(*endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("-endpoint must be an http(s) URL such as http://127.0.0.1:9000 (got %q)", *endpoint)
	}
	if *bucket == "" || strings.ContainsAny(*bucket, "/*") {
		return fmt.Errorf("-bucket must be a bucket name (got %q)", *bucket)
	}
	var rootUser, rootPassword, accessKey, secretKey string
	for name, dst := range map[string]*string{
		"MINIO_ROOT_USER": &rootUser, "MINIO_ROOT_PASSWORD": &rootPassword,
		"SPTAR_S3_ACCESS_KEY": &accessKey, "SPTAR_S3_SECRET_KEY": &secretKey,
	} {
		if *dst, err = requireEnv(name); err != nil {
			return err
		}
	}
	if accessKey == rootUser {
		return errors.New("SPTAR_S3_ACCESS_KEY is the root user: give the workers a user name of their own")
	}
	// MinIO's minimum lengths for credentials; checked here so the message names the variable.
	if len(accessKey) < 3 {
		return fmt.Errorf("SPTAR_S3_ACCESS_KEY must be at least 3 characters for MinIO (got %d)", len(accessKey))
	}
	if len(secretKey) < 8 {
		return fmt.Errorf("SPTAR_S3_SECRET_KEY must be at least 8 characters for MinIO (got %d)", len(secretKey))
	}

	adm, err := madmin.New(u.Host, rootUser, rootPassword, u.Scheme == "https")
	if err != nil {
		return fmt.Errorf("admin client for %s: %w", *endpoint, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	policy, err := workerPolicy(*bucket)
	if err != nil {
		return err
	}
	// Both calls replace what is there: the policy's statements and the user's secret end up as configured.
	if err := adm.AddCannedPolicy(ctx, *policyName, policy); err != nil {
		return fmt.Errorf("creating policy %s: %w", *policyName, err)
	}
	if err := adm.AddUser(ctx, accessKey, secretKey); err != nil {
		return fmt.Errorf("creating user %s: %w", accessKey, err)
	}

	// The user holds this one policy: any other one attached to it (by hand, or by an earlier configuration) goes.
	info, err := adm.GetUserInfo(ctx, accessKey)
	if err != nil {
		return fmt.Errorf("reading user %s: %w", accessKey, err)
	}
	var attached, others []string
	for _, p := range strings.Split(info.PolicyName, ",") {
		if p = strings.TrimSpace(p); p != "" {
			attached = append(attached, p)
			if p != *policyName {
				others = append(others, p)
			}
		}
	}
	if len(others) > 0 {
		if _, err := adm.DetachPolicy(ctx, madmin.PolicyAssociationReq{Policies: others, User: accessKey}); err != nil {
			return fmt.Errorf("detaching %s from user %s: %w", strings.Join(others, ", "), accessKey, err)
		}
	}
	change := "unchanged"
	if !slices.Contains(attached, *policyName) {
		if _, err := adm.AttachPolicy(ctx, madmin.PolicyAssociationReq{Policies: []string{*policyName}, User: accessKey}); err != nil {
			return fmt.Errorf("attaching %s to user %s: %w", *policyName, accessKey, err)
		}
		change = "attached"
	}
	if len(others) > 0 {
		change += ", detached " + strings.Join(others, ", ")
	}
	fmt.Printf("MinIO user %s: policy %s (bucket %s only; %s)\n", accessKey, *policyName, *bucket, change)
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "sptar-minio-admin: %v\n", err)
		os.Exit(1)
	}
}
