using System.Text.Json;

using Google.Protobuf;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;

using Microsoft.Extensions.Logging;

using Provisioning.Sdk.Hcl;
using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Provisioners;
using Provisioning.Terraform.Binaries;
using Provisioning.Terraform.Execution;
using Provisioning.Terraform.Hcl;
using Provisioning.Terraform.Sandbox;
using Provisioning.Terraform.State;

using ProtocolLogLevel = Provisioning.Sdk.Protocol.LogLevel;

namespace Provisioning.Terraform;

/// <summary>
/// The Terraform provisioner: Parse reads the template's HCL, Plan runs <c>init</c>, <c>plan</c>,
/// <c>show</c> and <c>graph</c> and converts the plan into resources, Apply applies that saved plan and
/// converts the new state. Failures and cancellations come back as the Complete's error, and Apply
/// always returns whatever state Terraform wrote.
/// </summary>
public sealed class TerraformProvisioner : IProvisioner
{
    internal const string PlanItemKey = "terraform.plan";
    internal const string PlanFileName = "plan.out";
    internal const string StateFileName = "terraform.tfstate";
    internal const string CanceledError = "canceled";

    private readonly TerraformOptions _options;
    private readonly TerraformBinaryResolver _resolver;
    private readonly ILogger<TerraformProvisioner> _logger;
    private readonly Lazy<string?> _cliConfigFile;
    private readonly Lazy<Task<ResolvedSandbox>> _sandbox;
    private readonly StateConverter _converter = new();
    private readonly TerraformModuleReader _moduleReader = new();

    public TerraformProvisioner(TerraformOptions options, TerraformBinaryResolver resolver, ILogger<TerraformProvisioner> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(logger);
        TerraformOptionsValidator.ThrowIfInvalid(options);
        _options = options;
        _resolver = resolver;
        _logger = logger;
        _cliConfigFile = new Lazy<string?>(WriteCliConfigFile);
        _sandbox = new Lazy<Task<ResolvedSandbox>>(ResolveSandboxAsync);
    }

    /// <summary>
    /// Checks the sandbox once (its self-test) and says how Terraform runs. Throws
    /// <see cref="TerraformSandboxException"/> when <see cref="TerraformOptions.Sandbox"/> requires a sandbox that does not work.
    /// </summary>
    public async Task<TerraformSandboxStatus> CheckSandboxAsync(CancellationToken cancellationToken = default)
    {
        var status = (await _sandbox.Value.WaitAsync(cancellationToken).ConfigureAwait(false)).Status;
        if (status.Mode is TerraformSandboxMode.Bubblewrap or TerraformSandboxMode.Docker && !status.Isolated)
        {
            throw new TerraformSandboxException(status.Description);
        }

        return status;
    }

    public Task<ParseComplete> ParseAsync(ProvisionerSession session, ParseRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        cancellationToken.ThrowIfCancellationRequested();
        return ParseCoreAsync(session, cancellationToken);
    }

    public async Task<PlanComplete> PlanAsync(ProvisionerSession session, PlanRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(request);
        session.Items.Remove(PlanItemKey);
        var metadata = request.Metadata ?? new Metadata();
        var destroy = request.Destroy || metadata.WorkspaceTransition == WorkspaceTransition.Destroy;
        var sensitive = request.VariableValues.Where(value => value.Sensitive).Select(value => value.Value).ToList();

        // A workspace that never got state has nothing to destroy; running Terraform could only fail
        // (e.g. on parameters that are no longer valid) and lock the workspace out of deletion.
        if (destroy && session.Config.State.IsEmpty)
        {
            await session.LogAsync(ProtocolLogLevel.Info, "The workspace has no Terraform state: there is nothing to destroy.", cancellationToken).ConfigureAwait(false);
            session.Items[PlanItemKey] = new PlannedRun(null, metadata, [], [], sensitive, []);
            return new PlanComplete();
        }

        TerraformCli? cli = null;
        try
        {
            cli = await CreateCliAsync(session, metadata, request.RichParameterValues, request.PreviousParameterValues, request.ExternalAuthProviders, sensitive, cancellationToken).ConfigureAwait(false);
            foreach (var line in TerraformEnvironment.DescribeInherited(Environment.GetEnvironmentVariables(), _options.StripEnvironmentVariables))
            {
                await cli.LogAsync(ProtocolLogLevel.Warn, line, cancellationToken).ConfigureAwait(false);
            }

            if (!session.Config.State.IsEmpty)
            {
                await WritePriorStateAsync(Path.Combine(session.WorkDirectory, StateFileName), session.Config.State, cancellationToken).ConfigureAwait(false);
            }

            var initSkipped = await InitAsync(cli, session.WorkDirectory, cancellationToken).ConfigureAwait(false);

            var variablesFile = TerraformVariablesFile.Write(session.WorkDirectory, request.VariableValues);
            List<string> planArguments = ["plan", "-json", "-input=false", "-out=" + PlanFileName, "-var-file=" + variablesFile];
            if (destroy)
            {
                planArguments.Add("-destroy");
            }

            try
            {
                await cli.RunLoggedAsync("plan", planArguments, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (initSkipped && TerraformInitSkip.NeedsInit(exception))
            {
                // The skip was wrong (Terraform wants something init installs): do what it would have done.
                await cli.LogAsync(ProtocolLogLevel.Warn, "Terraform needs terraform init after all; running it and planning again.", cancellationToken).ConfigureAwait(false);
                if (Directory.Exists(Path.Combine(session.WorkDirectory, ".terraform")))
                {
                    Directory.Delete(Path.Combine(session.WorkDirectory, ".terraform"), recursive: true);
                }

                await RunInitAsync(cli, cancellationToken).ConfigureAwait(false);
                await cli.RunLoggedAsync("plan", planArguments, cancellationToken).ConfigureAwait(false);
            }

            var modules = ReadModules(session.WorkDirectory);
            // show and graph only read the saved plan and the state: they run side by side.
            var (planJson, dot) = await BothAsync(
                cli.RunCapturedAsync("plan", ["show", "-json", PlanFileName], cancellationToken),
                cli.RunCapturedAsync("graph", ["graph", destroy ? "-type=plan-destroy" : "-type=plan"], cancellationToken)).ConfigureAwait(false);

            using var plan = JsonDocument.Parse(planJson);
            var converted = _converter.ConvertPlan(plan.RootElement, dot);
            session.Items[PlanItemKey] = new PlannedRun(
                Path.Combine(session.WorkDirectory, PlanFileName), metadata, [.. request.RichParameterValues], [.. request.ExternalAuthProviders], sensitive, [.. request.PreviousParameterValues]);

            var complete = new PlanComplete { Plan = ByteString.CopyFrom(cli.Redactor.RedactJson(plan.RootElement)) };
            complete.Resources.AddRange(converted.Resources);
            complete.Parameters.AddRange(converted.Parameters);
            complete.ExternalAuthProviders.AddRange(converted.ExternalAuthProviders);
            complete.Presets.AddRange(converted.Presets);
            complete.HasExternalAgents = converted.HasExternalAgents;
            complete.Modules.AddRange(modules);
            complete.ResourceReplacements.AddRange(TerraformPlanDetails.Replacements(plan.RootElement));
            complete.Timings.AddRange(cli.Timings.ToList());
            return complete;
        }
        catch (Exception exception) when (Describe(exception, "Plan", cancellationToken) is { } error)
        {
            error = cli?.Redactor.Redact(error) ?? error;
            await LogErrorAsync(session, exception, error).ConfigureAwait(false);
            var failed = new PlanComplete { Error = error };
            if (cli is not null)
            {
                failed.Timings.AddRange(cli.Timings.ToList());
            }

            return failed;
        }
    }

    public async Task<ApplyComplete> ApplyAsync(ProvisionerSession session, ApplyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(request);
        if (!session.Items.TryGetValue(PlanItemKey, out var item) || item is not PlannedRun planned)
        {
            return new ApplyComplete { Error = "There is no plan to apply: Apply must follow a successful Plan in the same session." };
        }

        if (planned.NothingToDo)
        {
            await session.LogAsync(ProtocolLogLevel.Info, "The plan has nothing to do.", cancellationToken).ConfigureAwait(false);
            return new ApplyComplete();
        }

        var metadata = request.Metadata ?? planned.Metadata;
        var statePath = Path.Combine(session.WorkDirectory, StateFileName);
        TerraformCli? cli = null;
        try
        {
            cli = await CreateCliAsync(session, metadata, planned.RichParameters, planned.PreviousParameters, planned.ExternalAuth, planned.SensitiveValues, cancellationToken).ConfigureAwait(false);
            await cli.RunLoggedAsync("apply", ["apply", "-json", "-input=false", planned.PlanFile!], cancellationToken).ConfigureAwait(false);

            // show and graph only read the state and the configuration: they run side by side.
            var (stateJson, dot) = await BothAsync(
                cli.RunCapturedAsync("apply", ["show", "-json"], cancellationToken),
                cli.RunCapturedAsync("graph", ["graph", "-type=plan"], cancellationToken)).ConfigureAwait(false);
            using var state = JsonDocument.Parse(stateJson);
            var converted = _converter.ConvertState(state.RootElement, dot);

            var complete = new ApplyComplete { State = await ReadStateAsync(statePath).ConfigureAwait(false) };
            complete.Resources.AddRange(converted.Resources);
            complete.Parameters.AddRange(converted.Parameters);
            complete.ExternalAuthProviders.AddRange(converted.ExternalAuthProviders);
            complete.Timings.AddRange(cli.Timings.ToList());
            return complete;
        }
        catch (Exception exception) when (Describe(exception, "Apply", cancellationToken) is { } error)
        {
            error = cli?.Redactor.Redact(error) ?? error;
            await LogErrorAsync(session, exception, error).ConfigureAwait(false);

            // Terraform writes state as it goes: what it created before failing or being interrupted
            // must reach the coordinator, or the next build would not know about it.
            var failed = new ApplyComplete { Error = error, State = await ReadStateAsync(statePath).ConfigureAwait(false) };
            if (cli is not null)
            {
                failed.Timings.AddRange(cli.Timings.ToList());
            }

            return failed;
        }
    }

    private async Task<ParseComplete> ParseCoreAsync(ProvisionerSession session, CancellationToken cancellationToken)
    {
        TerraformModuleDefinition module;
        try
        {
            module = _moduleReader.ReadDirectory(session.WorkDirectory, cancellationToken);
        }
        catch (HclSyntaxException exception)
        {
            // The message starts with file:line,column, so the template author can go straight there.
            var error = exception.Message;
            TerraformLog.OperationFailed(_logger, "Parse", error);
            await session.LogAsync(ProtocolLogLevel.Error, error, cancellationToken).ConfigureAwait(false);
            return new ParseComplete { Error = error };
        }

        var complete = new ParseComplete();
        foreach (var variable in module.Variables)
        {
            complete.TemplateVariables.Add(new TemplateVariable
            {
                Name = variable.Name,
                Description = variable.Description,
                Type = variable.Type ?? "",
                DefaultValue = ToDefaultValueText(variable.DefaultJson),
                Required = variable.Required,
                Sensitive = variable.Sensitive,
                Nullable = variable.Nullable,
            });
        }

        foreach (var (key, value) in module.WorkspaceTags)
        {
            complete.WorkspaceTags[key] = value;
        }

        var readme = FindReadme(session.WorkDirectory);
        if (readme is not null)
        {
            complete.Readme = ByteString.CopyFrom(await File.ReadAllBytesAsync(readme, cancellationToken).ConfigureAwait(false));
        }

        return complete;
    }

    private async Task<TerraformCli> CreateCliAsync(
        ProvisionerSession session,
        Metadata metadata,
        IEnumerable<RichParameterValue> richParameters,
        IEnumerable<RichParameterValue> previousParameters,
        IEnumerable<ExternalAuthProvider> externalAuth,
        IEnumerable<string> sensitiveValues,
        CancellationToken cancellationToken)
    {
        var threshold = TerraformEnvironment.ParseLogThreshold(session.Config.ProvisionerLogLevel);
        var binary = await _resolver.ResolveAsync(cancellationToken).ConfigureAwait(false);
        await CheckSandboxAsync(cancellationToken).ConfigureAwait(false);
        var sandbox = await _sandbox.Value.ConfigureAwait(false);
        var sandboxStatus = sandbox.Status;
        if (sandbox.Docker is { } container)
        {
            // A job container runs the image's Terraform, not the daemon's: its version decides what the commands support.
            binary = binary with { Path = "terraform", Version = container.TerraformVersion, Flavor = TerraformFlavor.Terraform };
        }

        var authList = externalAuth.ToList();
        var environment = TerraformEnvironment.Build(
            _options, Environment.GetEnvironmentVariables(), metadata, richParameters, authList, _cliConfigFile.Value, threshold, previousParameters);
        var redactor = new SecretRedactor(sensitiveValues.Concat(TerraformEnvironment.Secrets(metadata, authList)));
        var cli = new TerraformCli(
            binary,
            session.WorkDirectory,
            environment,
            _options.InterruptGracePeriod,
            (entry, token) => entry.Level >= threshold ? session.LogAsync(entry.Level, entry.Output, token) : ValueTask.CompletedTask,
            redactor,
            _logger,
            sandbox.Bubblewrap,
            _options,
            sandbox.Docker);
        await cli.LogAsync(ProtocolLogLevel.Debug, $"Using {binary}", cancellationToken).ConfigureAwait(false);
        if (sandboxStatus.Mode != TerraformSandboxMode.None)
        {
            // Said in every build of an auto-sandboxed daemon that has no sandbox, so template authors and admins see it too.
            await cli.LogAsync(sandboxStatus.Isolated ? ProtocolLogLevel.Debug : ProtocolLogLevel.Warn, sandboxStatus.Description, cancellationToken).ConfigureAwait(false);
        }

        return cli;
    }

    private async Task<ResolvedSandbox> ResolveSandboxAsync()
    {
        var resolved = await TerraformSandbox.ResolveAsync(_options, CancellationToken.None).ConfigureAwait(false);
        if (resolved.Status.Mode != TerraformSandboxMode.None)
        {
            if (resolved.Status.Isolated)
            {
                TerraformLog.SandboxReady(_logger, resolved.Status.Description);
            }
            else
            {
                TerraformLog.SandboxUnavailable(_logger, resolved.Status.Description);
            }
        }

        return resolved;
    }

    /// <summary>
    /// Runs <c>terraform init</c>, or skips it when the work directory needs nothing it would install
    /// (<see cref="TerraformInitSkip"/>, <see cref="TerraformOptions.SkipInitWhenCached"/>); returns whether it skipped.
    /// </summary>
    private async Task<bool> InitAsync(TerraformCli cli, string workDirectory, CancellationToken cancellationToken)
    {
        if (_options.SkipInitWhenCached)
        {
            string? reason;
            var started = DateTimeOffset.UtcNow;
            // Under the cache's lock: a provider another slot is installing into the cache is not linked half-written.
            using (await AcquireInitLockAsync(cancellationToken).ConfigureAwait(false))
            {
                reason = TerraformInitSkip.TryPrepare(workDirectory, _options.PluginCacheDirectory);
            }

            if (reason is null)
            {
                // The init stage still shows in the build's timings, as the few milliseconds the check took.
                cli.Timings.Add(new Timing
                {
                    Start = Timestamp.FromDateTimeOffset(started),
                    End = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
                    Action = "terraform init (skipped)",
                    Source = "terraform",
                    Resource = "",
                    Stage = "init",
                    State = TimingState.Completed,
                });
                await cli.LogAsync(ProtocolLogLevel.Debug, "Skipped terraform init: the template calls no modules and every provider it needs is built in or pinned by its lock file and in the plugin cache.", cancellationToken).ConfigureAwait(false);
                return true;
            }

            await cli.LogAsync(ProtocolLogLevel.Debug, $"Running terraform init: {reason}.", cancellationToken).ConfigureAwait(false);
        }

        await RunInitAsync(cli, cancellationToken).ConfigureAwait(false);
        return false;
    }

    private async Task<IDisposable> AcquireInitLockAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_options.PluginCacheDirectory);
        var lockFile = Path.Combine(_options.PluginCacheDirectory, ".init.lock");
        TerraformLog.WaitingForInitLock(_logger, lockFile);
        return await FileLock.AcquireAsync(lockFile, cancellationToken).ConfigureAwait(false);
    }

    private async Task RunInitAsync(TerraformCli cli, CancellationToken cancellationToken)
    {
        // Terraform's plugin cache is not safe for concurrent writers: one init at a time per cache,
        // across slots and across daemons sharing the host.
        using var initLock = await AcquireInitLockAsync(cancellationToken).ConfigureAwait(false);
        if (!cli.InitSupportsJson)
        {
            await cli.RunLoggedAsync("init", ["init", "-input=false", "-no-color"], cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await cli.RunLoggedAsync("init", ["init", "-input=false", "-json"], cancellationToken).ConfigureAwait(false);
        }
        catch (TerraformCommandException exception) when (!exception.HasErrorDiagnostics)
        {
            // Terraform 1.11's init -json exits 1 without a word when provider installation fails (e.g. a
            // provider missing from the mirror); the plain output says why.
            await cli.LogAsync(ProtocolLogLevel.Warn, "terraform init -json failed without saying why; running terraform init again for its plain error output.", cancellationToken).ConfigureAwait(false);
            await cli.RunLoggedAsync("init", ["init", "-input=false", "-no-color"], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Awaits both commands (neither is left running when the other fails) and throws the first one's failure first.</summary>
    private static async Task<(string First, string Second)> BothAsync(Task<string> first, Task<string> second)
    {
        try
        {
            await Task.WhenAll(first, second).ConfigureAwait(false);
        }
        catch
        {
            // WhenAll throws the first task's exception in argument order; both have ended.
        }

        return (await first.ConfigureAwait(false), await second.ConfigureAwait(false));
    }

    private List<Module> ReadModules(string workDirectory)
    {
        try
        {
            return TerraformPlanDetails.Modules(workDirectory);
        }
        catch (Exception exception) when (exception is IOException or JsonException or UnauthorizedAccessException)
        {
            // Modules are reported for information only; a build does not fail over them.
            TerraformLog.ModulesUnreadable(_logger, Path.Combine(workDirectory, ".terraform", "modules", "modules.json"), exception);
            return [];
        }
    }

    /// <summary>The error text for a failure the Complete reports, or null for one that is a bug and should propagate.</summary>
    private string? Describe(Exception exception, string operation, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                TerraformLog.OperationCanceled(_logger, operation);
                return CanceledError;
            case TerraformCommandException or TerraformBinaryException or TerraformInstallException or StateConversionException or TerraformSandboxException:
                TerraformLog.OperationFailed(_logger, operation, exception.Message);
                return exception.Message;
            case JsonException:
                TerraformLog.OperationFailed(_logger, operation, exception.Message);
                return $"Terraform printed JSON that could not be read: {exception.Message}";
            case System.ComponentModel.Win32Exception:
                TerraformLog.OperationFailed(_logger, operation, exception.Message);
                return $"Terraform could not be started: {exception.Message}. Check that the binary still exists and is executable (--terraform-path).";
            case IOException or UnauthorizedAccessException:
                TerraformLog.OperationFailed(_logger, operation, exception.Message);
                return $"{operation} could not use its work directory: {exception.Message}";
            default:
                return null;
        }
    }

    private static async Task LogErrorAsync(ProvisionerSession session, Exception exception, string error)
    {
        // Terraform's own diagnostics are already in the log; other failures are not.
        if (exception is TerraformCommandException)
        {
            return;
        }

        // The request may be canceled; this line must still go out.
        await session.LogAsync(ProtocolLogLevel.Error, error, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>States hold secrets (sensitive attributes, tokens): owner-only, like Terraform's own backups should be.</summary>
    private static async Task WritePriorStateAsync(string statePath, ByteString state, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var file = new FileStream(statePath, options);
        await using (file.ConfigureAwait(false))
        {
            await file.WriteAsync(state.Memory, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<ByteString> ReadStateAsync(string statePath) =>
        File.Exists(statePath) ? ByteString.CopyFrom(await File.ReadAllBytesAsync(statePath, CancellationToken.None).ConfigureAwait(false)) : ByteString.Empty;

    private static string? FindReadme(string directory) =>
        Directory.EnumerateFiles(directory)
            .FirstOrDefault(file => string.Equals(Path.GetFileName(file), "README.md", StringComparison.OrdinalIgnoreCase));

    /// <summary>For a provider mirror, a CLI configuration that installs providers only from it.</summary>
    private string? WriteCliConfigFile()
    {
        if (_options.CliConfigFile is { } configured)
        {
            return configured;
        }

        if (_options.ProviderMirrorDirectory is not { } mirror)
        {
            return null;
        }

        Directory.CreateDirectory(_options.CacheDirectory);
        var path = Path.Combine(_options.CacheDirectory, "provider-mirror.terraformrc");
        // HCL string escapes are a superset of what JSON produces for a path.
        var content = $"provider_installation {{\n  filesystem_mirror {{\n    path = {JsonSerializer.Serialize(Path.GetFullPath(mirror))}\n  }}\n}}\n";
        var temporary = path + "." + Guid.NewGuid().ToString("N");
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary>
    /// The reference system's form of a default: a string default as the plain string (so it reads and
    /// is passed back exactly like a value a user typed), anything else as JSON text.
    /// </summary>
    internal static string ToDefaultValueText(string? defaultJson)
    {
        if (defaultJson is null)
        {
            return "";
        }

        using var document = JsonDocument.Parse(defaultJson);
        return document.RootElement.ValueKind == JsonValueKind.String ? document.RootElement.GetString() ?? "" : defaultJson;
    }
}
