package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Patch changes one object with a JSON merge patch, a strategic merge patch
// or a JSON patch. Strings in the patch may use ${{ expression }}.
//
// Example:
//
//	steps:
//	- name: switch to green
//	  patch:
//	    kind: Service
//	    name: testing-service
//	    patch: {spec: {selector: {version: "2.0"}}}
type Patch struct {
	ObjectRef
	// Type of patch: merge (RFC 7386), strategic (Kubernetes strategic merge,
	// built-in kinds only) or json (RFC 6902) (default merge).
	Type string `json:"type,omitempty" enum:"merge,strategic,json"`
	// Patch is a mapping for merge and strategic, a list of operations for json.
	Patch any `json:"patch" kdrill:"template"`

	template *expression.ValueTemplate
}

// Default sets the merge patch type.
func (p *Patch) Default() {
	if p.Type == "" {
		p.Type = "merge"
	}
}

// Validate checks the reference, the type and the patch's shape.
func (p *Patch) Validate() error {
	var errs scenario.FieldErrors
	p.validate(&errs, "", true)
	switch p.Type {
	case "merge", "strategic":
		if _, ok := p.Patch.(map[string]any); !ok {
			errs.Add("patch", "a %s patch is a mapping", p.Type)
		}
	case "json":
		ops, ok := p.Patch.([]any)
		if !ok {
			errs.Add("patch", "a json patch is a list of operations such as {op: replace, path: /spec/replicas, value: 3}")
		}
		for i, op := range ops {
			validateJSONPatchOp(&errs, fmt.Sprintf("patch.%d", i), op)
		}
	default:
		errs.Add("type", "must be merge, strategic or json, not %q", p.Type)
	}
	return errs.Err()
}

// jsonPatchOps are RFC 6902's operations, each with the fields it needs
// besides op and path.
var jsonPatchOps = map[string][]string{"add": {"value"}, "remove": nil, "replace": {"value"}, "move": {"from"}, "copy": {"from"}, "test": {"value"}}

// validateJSONPatchOp checks one operation of a json patch.
func validateJSONPatchOp(errs *scenario.FieldErrors, field string, v any) {
	op, ok := v.(map[string]any)
	if !ok {
		errs.Add(field, "an operation is a mapping such as {op: replace, path: /spec/replicas, value: 3}")
		return
	}
	name, _ := op["op"].(string)
	needs, known := jsonPatchOps[name]
	if !known {
		names := slices.Sorted(maps.Keys(jsonPatchOps))
		errs.Add(field+".op", "%q is not a json patch operation%s; use one of %s", name, message.Suggest(name, names), strings.Join(names, ", "))
		return
	}
	if path, _ := op["path"].(string); !strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "${{") {
		errs.Add(field+".path", "required: a JSON pointer such as /spec/replicas")
	}
	for _, k := range needs {
		if _, ok := op[k]; !ok {
			errs.Add(field+"."+k, "required by op %s", name)
		}
	}
}

// Prepare compiles the patch's templates in the step's scope.
func (p *Patch) Prepare(s *scenario.Loading) error {
	t, err := s.CompileValue(p.Patch)
	if err != nil {
		return &scenario.FieldError{Field: "patch", Msg: err.Error()}
	}
	p.template = t
	return nil
}

// Run sends the patch.
func (p *Patch) Run(ctx context.Context, env *step.Env) (any, error) {
	res, err := p.resolve(env)
	if err != nil {
		return nil, err
	}
	if p.template == nil { // made outside a scenario file, not prepared
		if p.template, err = expression.CompileValue(p.Patch, nil); err != nil {
			return nil, err
		}
	}
	body, err := p.template.Expand(env.ExprEnv(nil))
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	pt := map[string]types.PatchType{"merge": types.MergePatchType, "strategic": types.StrategicMergePatchType, "json": types.JSONPatchType}[p.Type]
	// The retry policy sends a JSON patch again only when no earlier try can
	// have reached the server: it may add to a list, and sent twice add twice.
	out, err := res.client.Patch(ctx, p.Name, pt, data, metav1.PatchOptions{FieldManager: FieldManager})
	if err != nil {
		return nil, fmt.Errorf("patch %s: %w", p.String(), err)
	}
	return &model.PatchOutput{ResourceVersion: out.GetResourceVersion(), Generation: out.GetGeneration()}, nil
}

// Plan sends the patch as a dry run.
func (p *Patch) Plan(ctx context.Context, env *step.Env) (string, error) {
	if _, err := p.Run(ctx, env); apierrors.IsNotFound(err) {
		return "patch " + notYet(p.String()), nil
	} else if err != nil {
		return "patch " + p.String(), err
	}
	return fmt.Sprintf("patch %s (%s): accepted by the API server", p.String(), p.Type), nil
}
