package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// bashCompletion asks kdrill itself for the candidates: urfave/cli answers
// --generate-bash-completion with the commands and flags that fit.
const bashCompletion = `# kdrill completion for bash: source <(kdrill completion bash)
_kdrill_complete() {
  local cur words
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == "-"* ]]; then
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  return 0
}
complete -o bashdefault -o default -F _kdrill_complete kdrill
`

const zshCompletion = `#compdef kdrill
# kdrill completion for zsh: kdrill completion zsh > "${fpath[1]}/_kdrill"
_kdrill() {
  local -a candidates
  if [[ "${words[-1]}" == -* ]]; then
    candidates=("${(@f)$(${words[@]:0:#words[@]-1} ${words[-1]} --generate-bash-completion 2>/dev/null)}")
  else
    candidates=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${candidates[1]}" == "" ]]; then
    _files
  else
    _describe 'kdrill' candidates
  fi
}
if [ "$funcstack[1]" = "_kdrill" ]; then
  _kdrill "$@"
else
  compdef _kdrill kdrill
fi
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash, zsh or fish (see the README)",
		ArgsUsage: "SHELL",
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "bash":
				_, err := fmt.Fprint(c.App.Writer, bashCompletion)
				return err
			case "zsh":
				_, err := fmt.Fprint(c.App.Writer, zshCompletion)
				return err
			case "fish":
				script, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(c.App.Writer, script)
				return err
			}
			return usagef("kdrill completion: name a shell: bash, zsh or fish")
		},
	}
}
