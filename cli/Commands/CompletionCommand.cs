using System.CommandLine;

namespace Provisioning.Cli.Commands;

/// <summary>
/// <c>provisioning completion bash|zsh|fish</c>: prints a script that completes commands, options and option values
/// in that shell. Each script asks the executable itself through System.CommandLine's <c>[suggest:POSITION]</c>
/// directive (the mechanism <c>dotnet-suggest</c> uses, without needing that tool), so completions always match the
/// installed version's commands.
/// </summary>
internal static class CompletionCommand
{
    /// <summary>The shells a script exists for.</summary>
    public static readonly IReadOnlyList<string> Shells = ["bash", "zsh", "fish"];

    public static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh or fish." };
        shell.AcceptOnlyFromAmong([.. Shells]);
        var command = new Command("completion", "Print a shell completion script. bash: source <(provisioning completion bash) in ~/.bashrc; "
            + "zsh: provisioning completion zsh > \"${fpath[1]}/_provisioning\"; fish: provisioning completion fish > ~/.config/fish/completions/provisioning.fish.")
        {
            shell,
        };
        command.SetAction(parse =>
        {
            Console.Out.Write(Script(parse.GetValue(shell)!));
            return 0;
        });
        return command;
    }

    /// <summary>The completion script for <paramref name="shell"/> (one of <see cref="Shells"/>).</summary>
    public static string Script(string shell) => shell switch
    {
        // COMP_LINE up to the cursor, without the program's name, is what the directive completes; compgen keeps the
        // suggestions that start with the current word (System.CommandLine also suggests those containing it).
        "bash" => """
            # bash completion for provisioning (provisioning completion bash)
            _provisioning_complete() {
                local line="${COMP_LINE:0:COMP_POINT}"
                local rest=""
                case "$line" in
                    *[[:space:]]*) rest="${line#*[[:space:]]}" ;;
                esac
                local IFS=$'\n'
                local current="${COMP_WORDS[COMP_CWORD]}"
                [[ "$current" == "=" ]] && current=""
                COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "[suggest:${#rest}]" "$rest" 2>/dev/null)" -- "$current"))
            }
            complete -o default -F _provisioning_complete provisioning

            """,
        // The words before the cursor, joined, are the line the directive completes; compadd filters by prefix.
        "zsh" => """
            #compdef provisioning
            # zsh completion for provisioning (provisioning completion zsh)
            _provisioning() {
                local rest="${(j: :)words[2,CURRENT]}"
                local -a suggestions
                suggestions=("${(@f)$("${words[1]}" "[suggest:${#rest}]" "$rest" 2>/dev/null)}")
                compadd -- "${(@)suggestions:#}"
            }
            if [[ "$funcstack[1]" == "_provisioning" ]]; then
                _provisioning "$@"
            else
                compdef _provisioning provisioning
            fi

            """,
        "fish" => """
            # fish completion for provisioning (provisioning completion fish)
            function __provisioning_complete
                set -l tokens (commandline -opc)
                set -l current (commandline -ct)
                set -l rest (string join ' ' -- $tokens[2..-1] $current)
                $tokens[1] "[suggest:"(string length -- "$rest")"]" "$rest" 2>/dev/null | string match -- "$current*"
            end
            complete -c provisioning -f -a '(__provisioning_complete)'

            """,
        _ => throw new ArgumentOutOfRangeException(nameof(shell), shell, "Give bash, zsh or fish."),
    };
}
