namespace Provisioning.Terraform.Execution;

/// <summary>
/// The agent bootstrap scripts the <c>coder</c> provider turns into <c>coder_agent.init_script</c>: Terraform gets one
/// variable <c>CODER_AGENT_SCRIPT_&lt;os&gt;_&lt;arch&gt;</c> per platform Coder's provisioner serves (windows amd64/arm64,
/// linux amd64/arm64/armv7, darwin amd64/arm64), with <c>${ARCH}</c> already replaced; the provider replaces
/// <c>${ACCESS_URL}</c> (the deployment's URL, with a trailing slash) and <c>${AUTH_TYPE}</c> (the agent's <c>auth</c>).
/// Each script downloads the agent binary from the deployment (<c>{ACCESS_URL}bin/coder-&lt;os&gt;-&lt;arch&gt;</c>, as
/// a Coder deployment serves it), retrying until it can, then runs it as <c>agent</c>. A template that builds its
/// machine with <c>coder_agent.init_script</c> thereby behaves as under Coder.
/// </summary>
internal static class AgentScripts
{
    private const string Unix = """
        #!/usr/bin/env sh
        # coder_agent.init_script: download the workspace agent from the deployment, then run it.
        set -eu
        BINARY_DIR=$(mktemp -d -t coder.XXXXXX)
        BINARY_URL="${ACCESS_URL}bin/coder-OS-${ARCH}"
        cd "$BINARY_DIR"
        attempt=0
        until curl -fsSL --compressed "$BINARY_URL" -o coder 2>/dev/null || wget -q "$BINARY_URL" -O coder 2>/dev/null; do
          attempt=$((attempt + 1))
          echo "error: could not download the agent from $BINARY_URL (attempt $attempt); trying again in 30 seconds" >&2
          sleep 30
        done
        chmod +x coder
        export CODER_AGENT_AUTH="${AUTH_TYPE}"
        export CODER_AGENT_URL="${ACCESS_URL}"
        exec ./coder agent

        """;

    private const string Windows = """
        # coder_agent.init_script: download the workspace agent from the deployment, then run it.
        $ProgressPreference = "SilentlyContinue"
        $binary = Join-Path $env:TEMP "coder.exe"
        while ($true) {
          try {
            Invoke-WebRequest -Uri "${ACCESS_URL}bin/coder-windows-${ARCH}.exe" -OutFile $binary
            break
          } catch {
            Write-Output "error: could not download the agent from ${ACCESS_URL}bin/coder-windows-${ARCH}.exe; trying again in 30 seconds"
            Start-Sleep -Seconds 30
          }
        }
        $env:CODER_AGENT_AUTH = "${AUTH_TYPE}"
        $env:CODER_AGENT_URL = "${ACCESS_URL}"
        Start-Process -FilePath $binary -ArgumentList "agent" -PassThru

        """;

    private static readonly (string Os, string[] Architectures)[] Platforms =
    [
        ("windows", ["amd64", "arm64"]),
        ("linux", ["amd64", "arm64", "armv7"]),
        ("darwin", ["amd64", "arm64"]),
    ];

    /// <summary>Variable name to script, for every platform.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Environment() =>
        from platform in Platforms
        from architecture in platform.Architectures
        let script = platform.Os == "windows" ? Windows : Unix.Replace("-OS-", $"-{platform.Os}-", StringComparison.Ordinal)
        select KeyValuePair.Create($"CODER_AGENT_SCRIPT_{platform.Os}_{architecture}", script.Replace("${ARCH}", architecture, StringComparison.Ordinal));
}
