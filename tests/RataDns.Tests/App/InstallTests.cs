using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using RataDns.Tests.Support;

namespace RataDns.Tests.App;

/// <summary>
/// scripts/install.sh on a fresh Debian 12 (debootstrap: the minimal base and systemd, as any installed system has;
/// no libpcap, no libzmq), booted under its own systemd with systemd-nspawn, sharing this machine's network: the
/// script installs what is missing, the unit starts (Type=notify: after the capture opened), runs as the user
/// ratadns from /var/lib/ratadns, captures the DNS queries this test sends out of the default route's interface,
/// writes results to /var/log/ratadns and none to the journal, and systemd-analyze rates its exposure below the
/// 5.2 the issue measured (issue 16). The systemd in the container is the reference for how the unit runs.
/// </summary>
public sealed class InstallTests
{
    private static readonly string Published = Path.Combine(RepoPaths.Root, "artifacts", "publish", "ratadns");

    [SkippableFact]
    public void Install_sh_on_a_fresh_Debian_gives_a_service_that_starts_and_captures()
    {
        Skip.IfNot(Environment.UserName == "root", "needs root (debootstrap, systemd-nspawn)");
        Skip.IfNot(File.Exists("/usr/sbin/debootstrap") && File.Exists("/usr/bin/systemd-nspawn"), "needs debootstrap and systemd-nspawn (scripts/setup.sh installs them)");
        Skip.IfNot(File.Exists(Published), $"{Published} is absent: run scripts/publish.sh first (scripts/test.sh does)");
        string? outward = DefaultRouteInterface();
        Skip.If(outward is null, "this machine has no IPv4 default route to send test queries out of");

        string root = FreshDebian.Create(out string? unavailable);
        Skip.If(unavailable is not null, unavailable);
        try
        {
            string source = Path.Combine(root, "root", "ratadns");
            Directory.CreateDirectory(Path.Combine(source, "scripts"));
            Directory.CreateDirectory(Path.Combine(source, "packaging"));
            File.Copy(Path.Combine(RepoPaths.Root, "scripts", "install.sh"), Path.Combine(source, "scripts", "install.sh"));
            File.Copy(Path.Combine(RepoPaths.Root, "packaging", "ratadns.service"), Path.Combine(source, "packaging", "ratadns.service"));
            File.Copy(Published, Path.Combine(source, "ratadns"));

            using var container = Container.Boot(root);

            // The install, as an operator types it.
            var install = container.Run("RATADNS_BINARY=/root/ratadns/ratadns bash /root/ratadns/scripts/install.sh");
            Assert.True(install.Exit == 0, install.Output);
            Assert.Contains("install.sh: installing libpcap0.8 libzmq5 (apt-get)", install.Output, StringComparison.Ordinal);
            Assert.Contains($"install.sh: wrote /etc/ratadns/monitor.json: live capture on {outward}, port 53, results to /var/log/ratadns/results.json", install.Output, StringComparison.Ordinal);
            Assert.Contains("install.sh: created system user ratadns", install.Output, StringComparison.Ordinal);

            var start = container.Run("systemctl enable --now ratadns");
            Assert.True(start.Exit == 0, start.Output + container.Run("journalctl -u ratadns --no-pager -o cat").Output);
            Assert.Equal("active", container.Run("systemctl is-active ratadns").Output.Trim());

            // The process as the unit runs it: user ratadns, in /var/lib/ratadns, with CAP_NET_RAW.
            string pid = container.Run("systemctl show -p MainPID --value ratadns").Output.Trim();
            string status = container.Run($"cat /proc/{pid}/status").Output;
            string uid = container.Run("id -u ratadns").Output.Trim();
            Assert.Matches($@"(?m)^Uid:\s+{uid}\s", status);
            Assert.Equal("/var/lib/ratadns", container.Run($"readlink /proc/{pid}/cwd").Output.Trim());
            ulong effective = ulong.Parse(status.Split('\n').Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal))[7..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            Assert.True((effective & (1UL << 13)) != 0, $"CAP_NET_RAW (13) is not effective: {effective:x}");

            // Queries for a name no one else asks, sent out of the default route's interface until a result names it.
            string name = $"install-{Environment.ProcessId}-{Random.Shared.Next(1_000_000)}.ratadns.test";
            string results = Path.Combine(root, "var", "log", "ratadns", "results.json");
            using var client = new UdpClient(AddressFamily.InterNetwork);
            // A hang guard by count: 900 queries 100 ms apart.
            for (int sent = 0; !(File.Exists(results) && File.ReadAllText(results).Contains(name, StringComparison.Ordinal)); sent++)
            {
                Assert.True(sent < 900, $"no result names {name} after {sent} queries; journal: {container.Run("journalctl -u ratadns --no-pager -o cat").Output}");
                byte[] query = new TestMessageBuilder { Id = 0x5244, Flags = 0x0100 }.Question(name, 1).ToArray();
                client.Send(query, query.Length, new IPEndPoint(IPAddress.Parse("198.51.100.7"), 53)); // TEST-NET-2 (RFC 5737): off-link, so out by the default route
                Thread.Sleep(100);
            }

            var lines = File.ReadAllLines(results).Where(l => l.Length > 0).ToArray();
            Assert.All(lines, l => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(l).RootElement.ValueKind));
            Assert.Contains(lines, l => l.Contains("\"serverId\":", StringComparison.Ordinal));

            // The journal holds the program's own lines, not its results.
            string journal = container.Run("journalctl -u ratadns --no-pager -o cat").Output;
            Assert.DoesNotContain(name, journal, StringComparison.Ordinal);
            Assert.DoesNotContain(journal.Split('\n'), l => l.TrimStart().StartsWith('{'));

            // A reload (SIGHUP through ExecReload) is taken at the next window, the capture goes on.
            var reload = container.Run("systemctl reload ratadns");
            Assert.True(reload.Exit == 0, reload.Output + container.Run("journalctl -u ratadns --no-pager -o cat").Output);
            Assert.True(
                SpinWait.SpinUntil(() => container.Run("journalctl -u ratadns --no-pager -o cat").Output.Contains("reload: configuration valid", StringComparison.Ordinal), TimeSpan.FromSeconds(60)),
                container.Run("journalctl -u ratadns --no-pager -o cat").Output);
            Assert.Equal("active", container.Run("systemctl is-active ratadns").Output.Trim());

            // Exposure as systemd rates it, on the machine the unit runs on.
            string security = container.Run("systemd-analyze security --no-pager ratadns.service").Output;
            var exposure = System.Text.RegularExpressions.Regex.Match(security, @"Overall exposure level for ratadns\.service: (\d+\.\d)");
            Assert.True(exposure.Success, security);
            Assert.True(double.Parse(exposure.Groups[1].Value, CultureInfo.InvariantCulture) < 5.2, security);

            // Again: nothing to change, the configuration is the operator's.
            var again = container.Run("RATADNS_BINARY=/root/ratadns/ratadns bash /root/ratadns/scripts/install.sh");
            Assert.True(again.Exit == 0, again.Output);
            Assert.Contains("install.sh: kept /etc/ratadns/monitor.json (yours)", again.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("installed", again.Output.Replace("installing", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);

            // A stop is clean: SIGTERM, exit 0 (systemd would say exit-code otherwise).
            Assert.Equal(0, container.Run("systemctl stop ratadns").Exit);
            Assert.Equal("Result=success", container.Run("systemctl show -p Result ratadns").Output.Trim());
        }
        finally
        {
            FreshDebian.Remove(root);
        }
    }

    /// <summary>The interface of the IPv4 default route, from the kernel's routing table.</summary>
    private static string? DefaultRouteInterface() =>
        File.Exists("/proc/net/route")
            ? File.ReadLines("/proc/net/route").Skip(1).Select(l => l.Split('\t', StringSplitOptions.TrimEntries)).FirstOrDefault(f => f.Length > 2 && f[1] == "00000000")?[0]
            : null;

    /// <summary>Debian 12 roots made with debootstrap; the first is kept as a tarball, so later runs unpack it.</summary>
    private static class FreshDebian
    {
        private const string Cache = "/var/cache/ratadns-tests/bookworm-systemd.tar";

        public static string Create(out string? unavailable)
        {
            string root = Path.Combine("/var/tmp", $"ratadns-install-{Environment.ProcessId}-{Random.Shared.Next(1_000_000)}");
            Directory.CreateDirectory(root);
            unavailable = null;
            if (!File.Exists(Cache))
            {
                string building = Path.Combine("/var/tmp", $"ratadns-debootstrap-{Environment.ProcessId}");
                int exit = ExternalTool.Run(
                    "/usr/sbin/debootstrap",
                    ["--variant=minbase", "--include=systemd,systemd-sysv,dbus", "bookworm", building, "http://deb.debian.org/debian"],
                    out _,
                    out string errors,
                    timeoutMs: 900_000);
                if (exit != 0)
                {
                    unavailable = $"debootstrap could not make a Debian root (no mirror reachable?): {errors.Trim().Split('\n').LastOrDefault()}";
                    Remove(building);
                    return root;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(Cache)!);
                Assert.True(ExternalTool.Run("/usr/bin/tar", ["-C", building, "-cf", Cache + ".new", "."], out _, out string tarErrors, timeoutMs: 600_000) == 0, tarErrors);
                File.Move(Cache + ".new", Cache, overwrite: true);
                Remove(building);
            }

            Assert.Equal(0, ExternalTool.Run("/usr/bin/tar", ["-C", root, "-xf", Cache], out _, out _, timeoutMs: 600_000));
            return root;
        }

        public static void Remove(string root)
        {
            if (Directory.Exists(root))
            {
                ExternalTool.Run("/bin/rm", ["-rf", "--one-file-system", root], out _, out _, timeoutMs: 600_000);
            }
        }
    }

    /// <summary>A root booted under its own systemd (systemd-nspawn --boot), on this machine's network; commands run in it with nsenter.</summary>
    private sealed class Container : IDisposable
    {
        private readonly Process _nspawn;
        private readonly int _init;

        private Container(Process nspawn, int init)
        {
            _nspawn = nspawn;
            _init = init;
        }

        public static Container Boot(string root)
        {
            var info = new ProcessStartInfo("/usr/bin/systemd-nspawn")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };

            foreach (string a in new[] { "--quiet", "--boot", "--register=no", "--keep-unit", "--console=read-only", "-D", root })
            {
                info.ArgumentList.Add(a);
            }

            // This machine's cgroups are version 1: systemd 252 in the container is told so.
            info.Environment["SYSTEMD_NSPAWN_UNIFIED_HIERARCHY"] = "0";
            var nspawn = Process.Start(info)!;
            var console = new System.Text.StringBuilder();
            nspawn.OutputDataReceived += (_, e) => Keep(console, e.Data);
            nspawn.ErrorDataReceived += (_, e) => Keep(console, e.Data);
            nspawn.BeginOutputReadLine();
            nspawn.BeginErrorReadLine();

            string state = "no init process yet";
            try
            {
                // A hang guard by count, not by clock: 240 checks half a second apart (and each check's own time).
                for (int check = 0; ; check++)
                {
                    Assert.False(nspawn.HasExited, $"systemd-nspawn ended before the container booted: {Kept(console)}");
                    Assert.True(check < 240, $"the container did not boot after {check} checks ({state}): {Kept(console)}");
                    if (ExternalTool.Run("/usr/bin/pgrep", ["-P", nspawn.Id.ToString(CultureInfo.InvariantCulture)], out string children, out _) == 0
                        && int.TryParse(children.Split('\n')[0].Trim(), CultureInfo.InvariantCulture, out int init))
                    {
                        var container = new Container(nspawn, init);
                        state = container.Run("systemctl is-system-running").Output.Trim();
                        if (state is "running" or "degraded")
                        {
                            return container;
                        }
                    }

                    Thread.Sleep(500);
                }
            }
            catch
            {
                // A container that did not boot is not left running.
                nspawn.Kill(entireProcessTree: true);
                nspawn.WaitForExit();
                nspawn.Dispose();
                throw;
            }
        }

        private static void Keep(System.Text.StringBuilder console, string? line)
        {
            lock (console)
            {
                console.AppendLine(line);
            }
        }

        private static string Kept(System.Text.StringBuilder console)
        {
            lock (console)
            {
                return console.ToString();
            }
        }

        public (int Exit, string Output) Run(string command)
        {
            int exit = ExternalTool.Run(
                "/usr/bin/nsenter",
                ["-t", _init.ToString(CultureInfo.InvariantCulture), "-m", "-u", "-i", "-p", "--root", "--wd", "/usr/bin/env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "/bin/bash", "-c", command],
                out string stdout,
                out string stderr,
                timeoutMs: 600_000);
            return (exit, stdout + stderr);
        }

        public void Dispose()
        {
            // SIGTERM asks nspawn to halt the container (systemd stops every unit); SIGKILL if it does not.
            ExternalTool.Run("/bin/kill", ["-TERM", _nspawn.Id.ToString(CultureInfo.InvariantCulture)], out _, out _);
            if (!_nspawn.WaitForExit(TimeSpan.FromSeconds(90)))
            {
                _nspawn.Kill(entireProcessTree: true);
                _nspawn.WaitForExit();
            }

            _nspawn.Dispose();
        }
    }
}
