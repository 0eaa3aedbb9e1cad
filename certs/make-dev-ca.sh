#!/usr/bin/env bash
# Make a local development CA and a server certificate signed by it, for running
# Tributary over HTTPS on a development machine (Apple clients refuse Basic auth over
# plain HTTP, and refuse self-signed server certificates without a trusted CA).
#
# Usage: certs/make-dev-ca.sh [EXTRA-NAME-OR-IP ...]
#   e.g. certs/make-dev-ca.sh mymac.local 192.168.1.20
#
# The certificate always covers localhost, 127.0.0.1 and ::1. Output goes to certs/dev/
# (or $TRIBUTARY_CERT_DIR), which ignores itself in git: never commit or ship these keys.
# Re-running keeps the CA (so devices that trust it keep trusting) and issues a fresh
# server certificate; delete the directory to start over.
#
# Requires the openssl command line tool (Debian/Ubuntu: apt-get install openssl).

set -euo pipefail
umask 077

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${TRIBUTARY_CERT_DIR:-$here/dev}"

if ! command -v openssl >/dev/null 2>&1; then
    echo "error: openssl not found (Debian/Ubuntu: apt-get install openssl)" >&2
    exit 1
fi

# Subject alternative names: clients match these, never the subject CN.
sans="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in "$@"; do
    if [[ "$name" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ || "$name" == *:* ]]; then
        sans+=",IP:$name"
    elif [[ "$name" =~ ^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$ ]]; then
        sans+=",DNS:$name"
    else
        echo "error: $name is neither a host name nor an IP address" >&2
        exit 2
    fi
done

mkdir -p "$out"
chmod 700 "$out"
printf '# Development keys: never commit them.\n*\n' >"$out/.gitignore"

ca_key="$out/ca-key.pem"
ca_cert="$out/ca.pem"
if [[ -s "$ca_key" && -s "$ca_cert" ]]; then
    echo "Reusing the development CA in $ca_cert"
else
    echo "Creating a development CA in $ca_cert"
    # EC P-256 with SHA-256 meets Apple's requirements for trusted certificates.
    openssl req -x509 -new -nodes -sha256 -days 3650 \
        -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -subj "/O=Tributary development/CN=Tributary Development CA ($(hostname 2>/dev/null || echo local))" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" \
        -keyout "$ca_key" -out "$ca_cert" 2>/dev/null
    # DER copy for iOS, which installs a .cer sent by AirDrop or mail as a profile.
    openssl x509 -in "$ca_cert" -outform der -out "$out/ca.cer"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Apple platforms require: SAN names, extendedKeyUsage serverAuth, SHA-2, and at most
# 825 days of validity (397 keeps within the stricter public-CA limit as well).
cat >"$work/server.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $sans
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF

openssl req -new -nodes -sha256 \
    -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -subj "/O=Tributary development/CN=localhost" \
    -keyout "$out/key.pem" -out "$work/server.csr" 2>/dev/null
openssl x509 -req -sha256 -days 397 \
    -in "$work/server.csr" -CA "$ca_cert" -CAkey "$ca_key" \
    -CAcreateserial -CAserial "$out/ca.srl" \
    -extfile "$work/server.ext" -out "$out/cert.pem" 2>/dev/null

openssl verify -CAfile "$ca_cert" "$out/cert.pem" >/dev/null
chmod 600 "$out"/*.pem

cat <<EOF

Server certificate: $out/cert.pem
Private key:        $out/key.pem
Names:              ${sans//,/, }
Expires:            $(openssl x509 -in "$out/cert.pem" -noout -enddate | cut -d= -f2)

Point config.toml at them (relative paths resolve against the config file's folder):

    [tls]
    cert = "$out/cert.pem"
    key = "$out/key.pem"

Trust the CA ($ca_cert) on each client device, for development only:

  macOS:  sudo security add-trusted-cert -d -r trustRoot \\
              -k /Library/Keychains/System.keychain "$ca_cert"
          (or open it in Keychain Access and set Trust > "Always Trust")
  iOS / iPadOS:
          1. AirDrop or mail $out/ca.cer to the device and open it.
          2. Settings > General > VPN & Device Management > the downloaded profile > Install.
          3. Settings > General > About > Certificate Trust Settings: turn on full trust
             for "Tributary Development CA".
  Debian / Ubuntu:
          sudo cp "$ca_cert" /usr/local/share/ca-certificates/tributary-dev-ca.crt
          sudo update-ca-certificates

Remove the CA from your devices when you no longer need it; anyone holding
$ca_key can issue certificates those devices will trust.
EOF
