using System.Collections;

using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

using Provisioning.TestProvider.Coder;
using Provisioning.TestProvider.Plugin;

// A Terraform provider for tests, serving the coder provider's schema over the real plugin protocol. See README.md.
if (Handshake.Refusal(Environment.GetEnvironmentVariable) is { } refusal)
{
    await Console.Error.WriteLineAsync(refusal);
    return 1;
}

var environment = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
    .ToDictionary(entry => (string)entry.Key, entry => entry.Value as string ?? "", StringComparer.Ordinal);
var mtls = AutoMtls.FromEnvironment(Environment.GetEnvironmentVariable);

// go-plugin puts its socket in PLUGIN_UNIX_SOCKET_DIR when set, else the temporary directory.
var socketDirectory = Environment.GetEnvironmentVariable("PLUGIN_UNIX_SOCKET_DIR") is { Length: > 0 } configured ? configured : Path.GetTempPath();
var socketPath = Path.Combine(socketDirectory, "plugin" + Guid.NewGuid().ToString("N")[..10]);

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
// Stdout is the handshake channel: nothing else may be written there. Terraform logs a provider's stderr.
builder.Logging.ClearProviders();
builder.Services.AddGrpc();
builder.Services.AddSingleton<IHostLifetime, PluginLifetime>();
builder.Services.AddSingleton(new CoderProvider(environment));
builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenUnixSocket(socketPath, listen =>
{
    listen.Protocols = HttpProtocols.Http2;
    if (mtls is not null)
    {
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = mtls.Server,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (certificate, _, _) => mtls.IsTerraform(certificate),
            SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
        });
    }
}));

var app = builder.Build();
app.MapGrpcService<ProviderService>();
app.MapGrpcService<ControllerService>();
app.MapGrpcService<HealthService>();
await app.StartAsync();
Console.Out.WriteLine(Handshake.Line(socketPath, mtls?.Server.RawData));
await Console.Out.FlushAsync();
await app.WaitForShutdownAsync();
try
{
    File.Delete(socketPath);
}
catch (IOException)
{
    // A socket file left in the temporary directory is harmless.
}

return 0;
