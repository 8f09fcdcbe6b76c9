#!/usr/bin/env bash
# Cluster PKI and kubeconfigs for a single node; identities match the built-in RBAC bindings and the
# Node authorizer. Idempotent: existing files are kept, so restarts keep the same CA and credentials.
#   make-pki.sh PKI_DIR KUBECONFIG_DIR KUBECTL NODE_NAME NODE_IP SERVICE_IP API_PORT
set -euo pipefail
P=$1 K=$2 KUBECTL=$3 NODE=$4 IP=$5 SVC_IP=$6 PORT=$7
mkdir -p "$P" "$K"; cd "$P"; umask 077
ca() { # NAME SUBJECT: a self-signed CA
  [[ -s $1.key ]] || openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout "$1.key" -out "$1.crt" -subj "$2" 2>/dev/null
}
ca ca /CN=qi-convergence-ca
# The aggregation layer's own CA (metrics-server trusts requests the API server proxies only under it), and the
# CA that issues Ingress certificates: never the cluster CA, whose key signs every identity of the cluster.
ca front-proxy-ca /CN=qi-convergence-front-proxy-ca
ca ingress-ca "/CN=qi-convergence ingress CA"
[[ -s sa.key ]] || { openssl genrsa -out sa.key 2048 2>/dev/null && openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null; }
crt() { # NAME SUBJECT [SAN]   (env SIGNER: the CA, ca by default)
  [[ -s $1.crt ]] && return 0
  local signer=${SIGNER:-ca}
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  local ext; ext=$(mktemp)
  printf 'keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' "${3:+serverAuth,}clientAuth" >"$ext"
  [[ -n ${3:-} ]] && printf 'subjectAltName=%s\n' "$3" >>"$ext"
  openssl x509 -req -in "$1.csr" -CA "$signer.crt" -CAkey "$signer.key" -CAcreateserial -days 3650 -out "$1.crt" -extfile "$ext" 2>/dev/null
  rm -f "$ext" "$1.csr"
}
crt apiserver /CN=kube-apiserver "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$SVC_IP,IP:$IP"
crt admin "/O=system:masters/CN=kubernetes-admin"
crt apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
crt controller-manager /CN=system:kube-controller-manager
crt scheduler /CN=system:kube-scheduler
crt kube-proxy /CN=system:kube-proxy
crt kubelet "/O=system:nodes/CN=system:node:$NODE"
crt kube-router /CN=system:kube-router
for n in admin controller-manager scheduler kube-proxy kubelet kube-router; do
  f=$K/$n.kubeconfig
  [[ -s $f ]] && continue
  k() { "$KUBECTL" --kubeconfig="$f.tmp" config "$@" >/dev/null; }
  k set-cluster qi-local --server="https://127.0.0.1:$PORT" --certificate-authority="$P/ca.crt" --embed-certs
  k set-credentials "$n" --client-certificate="$P/$n.crt" --client-key="$P/$n.key" --embed-certs
  k set-context qi-local --cluster=qi-local --user="$n"
  k use-context qi-local
  mv "$f.tmp" "$f"
done
SIGNER=front-proxy-ca crt front-proxy-client /CN=front-proxy-client
# Last: its presence tells the role this script ran to the end with every file of this version (bump the name
# when a file is added, so that an existing cluster gets it).
touch .complete-2
echo "PKI ready in $P"
