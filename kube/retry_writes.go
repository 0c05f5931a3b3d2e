package kube

// Writes under the retry policy: which may be sent again, and how the
// answer to one sent again after a try whose answer was lost is read.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/kubernetes/scheme"
)

// sentTwiceDoesTwice says whether a write would do its work again if sent
// again: a create whose name the server makes up, and a JSON patch (which
// may add to a list).
func sentTwiceDoesTwice(req *http.Request) bool {
	switch req.Method {
	case http.MethodPost:
		return generatesName(req)
	case http.MethodPatch:
		return strings.HasPrefix(req.Header.Get("Content-Type"), "application/json-patch+json")
	}
	return false
}

// generatesName says whether a POST creates an object the server names.
func generatesName(req *http.Request) bool {
	meta, ok := postedMeta(req)
	return ok && meta.Name == "" && meta.GenerateName != ""
}

type objectMeta struct {
	Name              string            `json:"name"`
	GenerateName      string            `json:"generateName"`
	Labels            map[string]string `json:"labels"`
	CreationTimestamp time.Time         `json:"creationTimestamp"`
	ManagedFields     []struct {
		Manager string `json:"manager"`
	} `json:"managedFields"`
}

// postedMeta reads the metadata of a POST's body: JSON, or the protobuf
// client-go sends built-in types as.
func postedMeta(req *http.Request) (objectMeta, bool) {
	if req.GetBody == nil {
		return objectMeta{}, false
	}
	body, err := req.GetBody()
	if err != nil {
		return objectMeta{}, false
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, 8<<20))
	if err != nil {
		return objectMeta{}, false
	}
	if strings.Contains(req.Header.Get("Content-Type"), "protobuf") {
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
		if err != nil {
			return objectMeta{}, false
		}
		m, err := meta.Accessor(obj)
		if err != nil {
			return objectMeta{}, false
		}
		return objectMeta{Name: m.GetName(), GenerateName: m.GetGenerateName(), Labels: m.GetLabels()}, true
	}
	var obj struct {
		Metadata objectMeta `json:"metadata"`
	}
	if json.Unmarshal(data, &obj) != nil {
		return objectMeta{}, false
	}
	return obj.Metadata, true
}

// settle reads the answer to a request sent again after a try that may
// have done its work: a delete or eviction that now finds nothing, and a
// create that now finds the object that try created, succeeded.
func (t *retryTransport) settle(req *http.Request, resp *http.Response, err error, start time.Time) (*http.Response, error) {
	if err != nil {
		return resp, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound && (req.Method == http.MethodDelete || isEviction(req)):
		_ = resp.Body.Close()
		return synthetic(req, http.StatusOK, []byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success"}`)), nil
	case resp.StatusCode == http.StatusConflict && req.Method == http.MethodPost && !isEviction(req):
		if obj := t.createdByUs(req, start); obj != nil {
			_ = resp.Body.Close()
			return synthetic(req, http.StatusCreated, obj), nil
		}
	}
	return resp, nil
}

// clockSkew is how far the server's clock may trail kdrill's when a
// create's time is compared with the first try's.
const clockSkew = 3 * time.Second

// createdByUs reads the object a create that found AlreadyExists named,
// and returns it when an earlier try of this request made it: it was
// created after the first try started, carries the labels sent, and its
// manager (where the server records one) is this client.
func (t *retryTransport) createdByUs(req *http.Request, start time.Time) []byte {
	meta, ok := postedMeta(req)
	if !ok || meta.Name == "" {
		return nil
	}
	get := req.Clone(req.Context())
	get.Method, get.Body, get.GetBody, get.ContentLength = http.MethodGet, nil, nil, 0
	get.URL.Path = strings.TrimSuffix(req.URL.Path, "/") + "/" + meta.Name
	q := get.URL.Query()
	manager := q.Get("fieldManager")
	get.URL.RawQuery = ""
	get.Header = req.Header.Clone()
	get.Header.Del("Content-Type")
	get.Header.Set("Accept", "application/json")
	resp, err := t.next.RoundTrip(get)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil
	}
	var obj struct {
		Metadata objectMeta `json:"metadata"`
	}
	if json.Unmarshal(data, &obj) != nil || obj.Metadata.CreationTimestamp.Before(start.Add(-clockSkew).Truncate(time.Second)) {
		return nil
	}
	for k, v := range meta.Labels {
		if obj.Metadata.Labels[k] != v {
			return nil
		}
	}
	if manager == "" {
		manager, _, _ = strings.Cut(req.Header.Get("User-Agent"), "/")
	}
	// A server that keeps no managed fields cannot say who created it: the
	// labels and the time have to do.
	ours := len(obj.Metadata.ManagedFields) == 0
	for _, mf := range obj.Metadata.ManagedFields {
		ours = ours || mf.Manager == manager
	}
	if !ours {
		return nil
	}
	return data
}

func synthetic(req *http.Request, code int, body []byte) *http.Response {
	return &http.Response{
		Status: fmt.Sprintf("%d %s", code, http.StatusText(code)), StatusCode: code,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": []string{"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: req,
	}
}
