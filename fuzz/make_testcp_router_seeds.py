#!/usr/bin/env python3
"""Writes fuzz/seeds/testcp_router/: kubectl's captured protobuf requests, the CSR flow's JSON
requests and a few hand-made ones, in the testcp_router target's input form (identity byte,
request line, headers, empty line, body). Run from anywhere; it overwrites the seed files."""
import base64
import json
import pathlib
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "seeds" / "testcp_router"
ANONYMOUS, ADMIN, NODE, FOREIGN = 0, 1, 2, 3
TOKEN = "Authorization: Bearer abcdef.0123456789abcdef"
JSON = "Content-Type: application/json"
CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
CSR = CSRS + "/node-csr-7nvIpW5ygEf1XYUTfWWENlU0qCudErkPqx6IBgyFHWE"


def seed(name, identity, method, target, headers=(), body=b""):
    head = "\n".join([f"{method} {target}", *headers, "", ""]).encode()
    (OUT / name).write_bytes(bytes([identity]) + head + body)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    vectors = ROOT / "testdata" / "kubectl" / "protobuf-vectors"
    for meta in sorted(vectors.glob("*.json")):
        vector = json.loads(meta.read_text())
        body = base64.b64decode(meta.with_suffix(".b64").read_text())
        query = urllib.parse.urlencode(vector["query"])
        target = vector["path"] + (f"?{query}" if query else "")
        headers = [f"Content-Type: {vector['content_type']}",
                   "Accept: application/vnd.kubernetes.protobuf, */*"]
        seed(f"pb-{meta.stem}", ADMIN, vector["method"], target, headers, body)
    csr = ROOT / "testdata" / "csr"
    seed("csr-create-bootstrap", ANONYMOUS, "POST", CSRS, [JSON, TOKEN],
         (csr / "01-create-request.json").read_bytes())
    seed("csr-create-generatename-node", NODE, "POST", CSRS, [JSON],
         (csr / "01b-create-request-generatename.json").read_bytes())
    seed("sar-create", ADMIN, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", [JSON],
         (csr / "03-sar-request.json").read_bytes())
    seed("csr-approve-put", ADMIN, "PUT", CSR + "/approval", [JSON],
         (csr / "04b-kubectl-approve-put.json").read_bytes())
    seed("csr-status-put", ADMIN, "PUT", CSR + "/status", [JSON],
         (csr / "06-status-put-certificate.json").read_bytes())
    seed("csr-watch-name", ANONYMOUS, "GET",
         CSRS + "?fieldSelector=metadata.name%3Dcsr-abc12&watch=true&allowWatchBookmarks=true&timeoutSeconds=1",
         [TOKEN])
    seed("csr-table", ADMIN, "GET", CSRS,
         ["Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json"])
    seed("discovery-aggregated", ANONYMOUS, "GET", "/apis",
         ["Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"])
    seed("cluster-info-get", ANONYMOUS, "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info")
    seed("impersonate-bootstrapper", ADMIN, "GET", "/api/v1/namespaces/kube-system/secrets",
         ["Impersonate-User: system:bootstrap:abcdef", "Impersonate-Group: system:bootstrappers"])
    seed("secret-merge-patch", ADMIN, "PATCH", "/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef",
         ["Content-Type: application/merge-patch+json"], b'{"metadata":{"labels":{"a":"b"}},"data":{"token-secret":null}}')
    seed("crb-apply", ADMIN, "PATCH",
         "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/x?fieldManager=kubectl&force=true",
         ["Content-Type: application/apply-patch+yaml"],
         b'{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"x"},'
         b'"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},'
         b'"subjects":[{"kind":"Group","name":"g","apiGroup":"rbac.authorization.k8s.io"}]}')
    seed("crb-delete-precondition", ADMIN, "DELETE",
         "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:node-autoapprove-bootstrap", [JSON],
         b'{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"resourceVersion":"7"}}')
    seed("ns-list-labels", FOREIGN, "GET", "/api/v1/namespaces?labelSelector=a%20in%20(b,c),!d&limit=5")
    seed("openapi-v3", ADMIN, "GET", "/openapi/v3/apis/certificates.k8s.io/v1")


if __name__ == "__main__":
    main()
