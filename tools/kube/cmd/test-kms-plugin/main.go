// Command test-kms-plugin is a KMS plugin for tests only. It serves the
// Kubernetes KMS v2 or the (deprecated) KMS v1 gRPC API on a unix socket and
// "seals" data with AES-256-GCM under a key that is derived from a fixed seed
// and a key version number. It is NOT secure: anyone who knows the seed knows
// every key.
//
// The current key version is read from a state file (a decimal number) on every
// call, so a test rotates the key by rewriting that file; no restart or signal
// is needed. Ciphertexts start with the ASCII prefix "kv<N>:" so that anyone
// reading etcd can tell which key version sealed a DEK, and Decrypt accepts
// every version, past or future.
//
// With --api v2 the plugin reports key ID "key-v<N>" in Status and Encrypt, so
// kube-apiserver notices a rotation the next time it polls Status.
//
// On SIGTERM or SIGINT it stops serving, removes its socket and exits 0.
package main

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"

	kmsv1 "k8s.io/kms/apis/v1beta1"
	kmsv2api "k8s.io/kms/apis/v2"
	"k8s.io/kms/pkg/service"
)

const (
	runtimeName    = "test-kms-plugin"
	runtimeVersion = "0.1.0"
	maxKeyVersion  = 1 << 30
)

// keyring holds the seed and tracks the current key version from the state file.
type keyring struct {
	seed      string
	stateFile string

	mu   sync.Mutex
	last int // last version read successfully
}

// current re-reads the state file. A missing, empty or malformed file (for
// example one caught half-written) keeps the last good version.
func (k *keyring) current() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	raw, err := os.ReadFile(k.stateFile)
	if err != nil {
		log.Printf("state file %s unreadable, keeping key version %d: %v", k.stateFile, k.last, err)
		return k.last
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || n < 1 || n > maxKeyVersion {
		log.Printf("state file %s holds %q, keeping key version %d", k.stateFile, strings.TrimSpace(string(raw)), k.last)
		return k.last
	}
	if n != k.last {
		log.Printf("key version %d -> %d", k.last, n)
		k.last = n
	}
	return n
}

func (k *keyring) aead(version int) (cipher.AEAD, error) {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", k.seed, version)))
	block, err := aes.NewCipher(sum[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func prefix(version int) []byte { return []byte(fmt.Sprintf("kv%d:", version)) }

// seal returns "kv<N>:" + nonce + AES-GCM(plaintext), with the prefix as
// additional authenticated data.
func (k *keyring) seal(plaintext []byte) ([]byte, int, error) {
	version := k.current()
	aead, err := k.aead(version)
	if err != nil {
		return nil, 0, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, 0, err
	}
	p := prefix(version)
	out := append(append(append([]byte{}, p...), nonce...), aead.Seal(nil, nonce, plaintext, p)...)
	return out, version, nil
}

func (k *keyring) open(ciphertext []byte) ([]byte, int, error) {
	if !bytes.HasPrefix(ciphertext, []byte("kv")) {
		return nil, 0, errors.New("ciphertext lacks the kv<N>: prefix")
	}
	colon := bytes.IndexByte(ciphertext, ':')
	if colon < 3 {
		return nil, 0, errors.New("ciphertext lacks the kv<N>: prefix")
	}
	version, err := strconv.Atoi(string(ciphertext[2:colon]))
	if err != nil || version < 1 || version > maxKeyVersion {
		return nil, 0, fmt.Errorf("bad key version %q in ciphertext", ciphertext[2:colon])
	}
	aead, err := k.aead(version)
	if err != nil {
		return nil, 0, err
	}
	rest := ciphertext[colon+1:]
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, 0, errors.New("ciphertext too short")
	}
	plain, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], ciphertext[:colon+1])
	if err != nil {
		return nil, 0, fmt.Errorf("decrypting with key version %d: %w", version, err)
	}
	return plain, version, nil
}

func keyID(version int) string { return fmt.Sprintf("key-v%d", version) }

// v2 implements k8s.io/kms/pkg/service.Service.
type v2 struct{ keys *keyring }

var _ service.Service = v2{}

func (s v2) Encrypt(_ context.Context, uid string, data []byte) (*service.EncryptResponse, error) {
	ct, version, err := s.keys.seal(data)
	if err != nil {
		log.Printf("v2 encrypt uid=%s: %v", uid, err)
		return nil, err
	}
	log.Printf("v2 encrypt uid=%s key=%s", uid, keyID(version))
	return &service.EncryptResponse{Ciphertext: ct, KeyID: keyID(version)}, nil
}

func (s v2) Decrypt(_ context.Context, uid string, req *service.DecryptRequest) ([]byte, error) {
	plain, version, err := s.keys.open(req.Ciphertext)
	if err != nil {
		log.Printf("v2 decrypt uid=%s keyID=%s: %v", uid, req.KeyID, err)
		return nil, err
	}
	log.Printf("v2 decrypt uid=%s keyID=%s sealed-with=%s", uid, req.KeyID, keyID(version))
	return plain, nil
}

func (s v2) Status(context.Context) (*service.StatusResponse, error) {
	return &service.StatusResponse{Version: "v2", Healthz: "ok", KeyID: keyID(s.keys.current())}, nil
}

// v1 implements the KMS v1beta1 KeyManagementService.
type v1 struct {
	kmsv1.UnimplementedKeyManagementServiceServer
	keys *keyring
}

func (s *v1) Version(context.Context, *kmsv1.VersionRequest) (*kmsv1.VersionResponse, error) {
	return &kmsv1.VersionResponse{Version: "v1beta1", RuntimeName: runtimeName, RuntimeVersion: runtimeVersion}, nil
}

func (s *v1) Encrypt(_ context.Context, req *kmsv1.EncryptRequest) (*kmsv1.EncryptResponse, error) {
	ct, version, err := s.keys.seal(req.Plain)
	if err != nil {
		log.Printf("v1 encrypt: %v", err)
		return nil, err
	}
	log.Printf("v1 encrypt key=%s", keyID(version))
	return &kmsv1.EncryptResponse{Cipher: ct}, nil
}

func (s *v1) Decrypt(_ context.Context, req *kmsv1.DecryptRequest) (*kmsv1.DecryptResponse, error) {
	plain, version, err := s.keys.open(req.Cipher)
	if err != nil {
		log.Printf("v1 decrypt: %v", err)
		return nil, err
	}
	log.Printf("v1 decrypt sealed-with=%s", keyID(version))
	return &kmsv1.DecryptResponse{Plain: plain}, nil
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetPrefix("test-kms-plugin: ")

	listen := flag.String("listen", "", "unix socket path to serve on (a unix:// prefix is accepted)")
	api := flag.String("api", "v2", "KMS API to serve: v1 or v2")
	stateFile := flag.String("state-file", "", "file holding the current key version (created with 1 if missing); rewrite it to rotate")
	seed := flag.String("seed", "ask-kms-secret-encryption test seed", "seed the per-version keys are derived from")
	timeout := flag.Duration("timeout", 10*time.Second, "gRPC connection timeout")
	flag.Parse()

	if err := run(*listen, *api, *stateFile, *seed, *timeout); err != nil {
		log.Printf("error: %v", err)
		os.Exit(1)
	}
}

func run(listen, api, stateFile, seed string, timeout time.Duration) error {
	socket := strings.TrimPrefix(listen, "unix://")
	if socket == "" || stateFile == "" {
		return errors.New("--listen and --state-file are required")
	}
	if api != "v1" && api != "v2" {
		return fmt.Errorf("--api must be v1 or v2, not %q", api)
	}

	if _, err := os.Stat(stateFile); errors.Is(err, fs.ErrNotExist) {
		if err := os.WriteFile(stateFile, []byte("1\n"), 0o644); err != nil {
			return err
		}
	}
	keys := &keyring{seed: seed, stateFile: stateFile, last: 1}
	version := keys.current()

	// Remove a stale socket left by a killed plugin, but never a regular file.
	if fi, err := os.Lstat(socket); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return fmt.Errorf("%s exists and is not a socket", socket)
		}
		if err := os.Remove(socket); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(socket), 0o755); err != nil {
		return err
	}
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	defer os.Remove(socket)

	server := grpc.NewServer(grpc.ConnectionTimeout(timeout))
	if api == "v2" {
		// NewGRPCService adapts a service.Service to the v2 gRPC API. It is
		// registered on our own server so that we own the listener and can
		// report readiness once the socket exists.
		kmsv2api.RegisterKeyManagementServiceServer(server, service.NewGRPCService(socket, timeout, v2{keys: keys}))
	} else {
		kmsv1.RegisterKeyManagementServiceServer(server, &v1{keys: keys})
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- server.Serve(ln) }()
	log.Printf("serving KMS %s on %s (key version %d, state file %s)", api, socket, version, stateFile)

	select {
	case sig := <-sigs:
		log.Printf("%v: shutting down", sig)
		stopped := make(chan struct{})
		go func() { server.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			server.Stop()
		}
		<-served
		return nil
	case err := <-served:
		return err
	}
}
