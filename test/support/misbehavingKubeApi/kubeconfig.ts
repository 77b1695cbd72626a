// A kubeconfig file for the hostile server: the test server's writer, with its default name.
import { writeKubeconfigFile } from "../kubeStandIn/auth";
import type { KubeconfigFileOptions } from "./types";

export function writeHostileKubeconfig(path: string, server: { url: string; caPem: string; token: string }, options: KubeconfigFileOptions = {}): string {
    return writeKubeconfigFile(path, server, { ...options, context: options.context ?? "hostile" });
}
