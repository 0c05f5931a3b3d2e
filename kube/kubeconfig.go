package kube

import (
	"fmt"
	"os"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// WriteKubeconfig writes a kubeconfig file with the cluster's server and
// credentials, and a current context whose namespace is namespace, so that
// kubectl and helm run by a scenario act where it acts. The file is
// readable by its owner only; remove it when done.
func (c *Cluster) WriteKubeconfig(dir, namespace string) (string, error) {
	cfg := c.Config
	if cfg == nil {
		return "", fmt.Errorf("no cluster configuration to write")
	}
	caData := cfg.CAData
	if len(caData) == 0 && cfg.CAFile != "" {
		data, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return "", err
		}
		caData = data
	}
	api := clientcmdapi.NewConfig()
	api.Clusters["kdrill"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: caData, InsecureSkipTLSVerify: cfg.Insecure, TLSServerName: cfg.ServerName}
	api.AuthInfos["kdrill"] = &clientcmdapi.AuthInfo{
		Token: cfg.BearerToken, TokenFile: cfg.BearerTokenFile,
		ClientCertificateData: cfg.CertData, ClientCertificate: cfg.CertFile,
		ClientKeyData: cfg.KeyData, ClientKey: cfg.KeyFile,
		Username: cfg.Username, Password: cfg.Password,
	}
	api.Contexts["kdrill"] = &clientcmdapi.Context{Cluster: "kdrill", AuthInfo: "kdrill", Namespace: namespace}
	api.CurrentContext = "kdrill"
	f, err := os.CreateTemp(dir, "kubeconfig-*")
	if err != nil {
		return "", err
	}
	path := f.Name()
	_ = f.Close()
	if err := clientcmd.WriteToFile(*api, path); err != nil {
		_ = os.Remove(path)
		return "", err
	}
	return path, os.Chmod(path, 0o600)
}
