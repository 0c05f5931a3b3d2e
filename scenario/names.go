package scenario

import (
	"fmt"
)

// checkName returns a message when name cannot be a Kubernetes name.
func checkName(name string) string {
	if len(name) > 63 {
		return "must be at most 63 characters"
	}
	for i, r := range name {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || (r == '-' && i > 0 && i < len(name)-1)
		if !ok {
			return fmt.Sprintf("%q must be lower-case letters, digits and inner dashes (a Kubernetes name)", name)
		}
	}
	return ""
}
