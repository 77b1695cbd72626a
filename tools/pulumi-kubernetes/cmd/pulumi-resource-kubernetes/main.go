// Command pulumi-resource-kubernetes is the Pulumi Kubernetes resource
// provider plugin for the tests: the provider library of
// github.com/pulumi/pulumi-kubernetes/provider/v4, served by our own main.
//
// Upstream's main package embeds schema-embed.json and
// terraform-mapping-embed.json, which upstream's `go generate` writes and which
// are not in the module zip, so that package does not build from the module
// proxy. This main serves the same provider without them:
//
//   - Schema: the engine does not ask a resource plugin for its schema to run
//     a Node.js program's `pulumi up`/`destroy` (the Node SDK carries its own
//     types; GetSchema is for codegen, `pulumi convert`/`import`, `package
//     get-schema`). Checked with the CLI v3.248.0 and PULUMI_DEBUG_GRPC: an
//     up and a destroy of a Provider with a kubeconfig, a ServiceAccount, a
//     ClusterRole and a ClusterRoleBinding called Handshake, GetPluginInfo,
//     CheckConfig, Configure, Check, Create, Delete and Cancel, never
//     GetSchema or GetMapping. By default the plugin therefore serves a
//     minimal schema, {"name":"kubernetes","version":"<version>"}. The
//     provider's own code reads the schema only in Read when it has no old
//     inputs (a `pulumi import` or a `.get()` of an existing object), to copy
//     the resource's top-level input properties from the live object; with the
//     minimal schema that read still succeeds but those inputs stay unset. For
//     such uses, point ASK_K8S_PROVIDER_SCHEMA at a full schema.json (upstream
//     ships one in the module, provider/cmd/pulumi-resource-kubernetes/
//     schema.json) or put a schema.json next to the binary; its "version" is
//     set to the plugin's, as upstream's generate.go does.
//   - Terraform mapping: none; GetMapping("terraform") answers with empty
//     data. Only `pulumi convert --from terraform` asks for it.
//
// The version (pkg/version.Version) is set by tools/pulumi-kubernetes/build.list.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

const (
	providerName = "kubernetes"
	// schemaEnv names a schema.json file to serve instead of the minimal one.
	schemaEnv = "ASK_K8S_PROVIDER_SCHEMA"
)

func main() {
	schema, err := loadSchema(version.Version)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-kubernetes: %v\n", err)
		os.Exit(1)
	}
	provider.Serve(providerName, version.Version, schema, nil)
}

// loadSchema returns the schema to serve: the file named by $ASK_K8S_PROVIDER_SCHEMA,
// else schema.json next to the executable, else a minimal one. A file's
// "version" is replaced by ver.
func loadSchema(ver string) ([]byte, error) {
	path, explicit := os.LookupEnv(schemaEnv)
	if !explicit || path == "" {
		explicit = false
		if exe, err := os.Executable(); err == nil {
			path = filepath.Join(filepath.Dir(exe), "schema.json")
		}
	}
	spec := map[string]json.RawMessage{}
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			if err := json.Unmarshal(data, &spec); err != nil {
				return nil, fmt.Errorf("schema %s: %w", path, err)
			}
		case explicit || !os.IsNotExist(err):
			return nil, fmt.Errorf("schema: %w", err)
		}
	}
	if len(spec) == 0 {
		spec["name"] = json.RawMessage(fmt.Sprintf("%q", providerName))
	}
	if ver != "" {
		v, err := json.Marshal(ver)
		if err != nil {
			return nil, err
		}
		spec["version"] = v
	}
	return json.Marshal(spec)
}
