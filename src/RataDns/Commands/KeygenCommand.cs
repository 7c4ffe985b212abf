using System.CommandLine;
using Microsoft.Extensions.Logging;
using RataDns.App.Logging;
using RataDns.Transport.ZeroMq;

namespace RataDns.App.Commands;

/// <summary>
/// <c>ratadns keygen NAME</c>: writes a CurveZMQ key pair in Z85, the secret key to <c>NAME.key</c> (mode 0600) and
/// the public key to <c>NAME.pub</c>, and prints the public key (what subscribers configure as the server key).
/// </summary>
public static class KeygenCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Path prefix of the key files: NAME.key (secret) and NAME.pub (public)." };
        var force = new Option<bool>("--force") { Description = "Overwrite existing key files." };
        var command = new Command("keygen", "Write a CurveZMQ key pair (Z85) for encrypted ZeroMQ publishing.") { name, force };
        command.SetAction(parse => Run(parse.GetValue(name)!, parse.GetValue(force), Console.Out, Console.Error, GlobalOptions.Read(parse)));
        return command;
    }

    public static int Run(string name, bool force, TextWriter output, TextWriter errors) => Run(name, force, output, errors, null);

    internal static int Run(string name, bool force, TextWriter output, TextWriter errors, LogSettings? logSettings)
    {
        using var log = new CommandLog("ratadns keygen", errors, logSettings);
        string secretPath = name + ".key";
        string publicPath = name + ".pub";
        if (!force && (File.Exists(secretPath) || File.Exists(publicPath)))
        {
            log.Logger.LogError("{Path} exists; use --force to overwrite it.", File.Exists(secretPath) ? secretPath : publicPath);
            return ExitCodes.Usage;
        }

        try
        {
            var certificate = CurveKeyFiles.Generate(secretPath, publicPath, overwrite: force);
            output.WriteLine(certificate.PublicKeyZ85);
            log.Logger.LogInformation("wrote {SecretKey} (secret, mode 0600) and {PublicKey} (public)", secretPath, publicPath);
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Logger.LogError("{Reason}", e.Message);
            return ExitCodes.Usage;
        }
    }
}
