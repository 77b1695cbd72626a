// The hostile server's serving certificate: its own self-signed CA, distinct from the
// Kubernetes API test server's, so the two look like two clusters.
import { selfSignedCertificate } from "../kubeStandIn/auth";

export function misbehavingKubeApiCertificate(): Promise<{ cert: string; key: string }> {
    return selfSignedCertificate("hostile-kube-apiserver");
}
