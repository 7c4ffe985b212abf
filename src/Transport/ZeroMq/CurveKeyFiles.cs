using NetMQ;

namespace RataDns.Transport.ZeroMq;

/// <summary>
/// CurveZMQ key files as <c>ratadns keygen</c> writes them: one Z85 key (40 characters, RFC 32) per file,
/// <c>&lt;name&gt;.key</c> the secret key (mode 0600), <c>&lt;name&gt;.pub</c> the public key.
/// </summary>
public static class CurveKeyFiles
{
    /// <summary>Length of a 32-byte key in Z85.</summary>
    public const int Z85KeyLength = 40;

    /// <summary>Generates a key pair and writes it; the secret file is created with mode 0600 (owner only).</summary>
    /// <exception cref="IOException">A file exists already (unless <paramref name="overwrite"/>) or cannot be written.</exception>
    public static NetMQCertificate Generate(string secretKeyPath, string publicKeyPath, bool overwrite = false)
    {
        var certificate = new NetMQCertificate();
        if (overwrite)
        {
            // Recreated rather than truncated: an existing file would keep its (perhaps wider) mode.
            File.Delete(secretKeyPath);
            File.Delete(publicKeyPath);
        }

        var secretOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Set at creation, so the secret is never readable by others, even briefly.
            secretOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var secret = new StreamWriter(secretKeyPath, secretOptions))
        {
            secret.Write(certificate.SecretKeyZ85);
            secret.Write('\n');
        }

        using (var pub = new StreamWriter(publicKeyPath, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write }))
        {
            pub.Write(certificate.PublicKeyZ85);
            pub.Write('\n');
        }

        return certificate;
    }

    /// <summary>Reads one Z85 key from a file (surrounding white space ignored).</summary>
    /// <exception cref="IOException">The file cannot be read or does not hold a 40-character Z85 key.</exception>
    public static string ReadKey(string path) => ReadKey(path, null);

    /// <summary>As <see cref="ReadKey(string)"/>; a missing file's message names <paramref name="key"/>, the configuration key that gave it.</summary>
    public static string ReadKey(string path, string? key)
    {
        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IOException($"{(key is null ? "" : key + " ")}{path}: no such file.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"{(key is null ? "" : key + " ")}{path}: {e.Message}", e);
        }

        if (text.Length != Z85KeyLength || !IsZ85(text))
        {
            throw new IOException($"{path}: not a CurveZMQ key (expected {Z85KeyLength} Z85 characters, as 'ratadns keygen' writes).");
        }

        return text;
    }

    /// <summary>The server certificate from its secret key file (and the public key file, checked to match), or null without one.</summary>
    public static NetMQCertificate? LoadServerCertificate(string? secretKeyFile, string? publicKeyFile)
    {
        if (secretKeyFile is null)
        {
            if (publicKeyFile is not null)
            {
                throw new IOException($"{publicKeyFile}: a CurveZMQ server needs its secret key file too.");
            }

            return null;
        }

        var certificate = NetMQCertificate.CreateFromSecretKey(ReadKey(secretKeyFile, "ZeroMq.CurveSecretKeyFile"));
        if (publicKeyFile is not null && ReadKey(publicKeyFile, "ZeroMq.CurvePublicKeyFile") != certificate.PublicKeyZ85)
        {
            throw new IOException($"{publicKeyFile}: this public key does not belong to the secret key in {secretKeyFile}.");
        }

        return certificate;
    }

    /// <summary>
    /// The client public keys of an allowed-clients file: one Z85 key (40 characters) a line; blank lines and lines
    /// starting with <c>#</c> are ignored. A comment cannot follow a key on its line: <c>#</c> is a Z85 character.
    /// </summary>
    /// <returns>Each key's 32 raw bytes, in file order (duplicates kept).</returns>
    /// <exception cref="IOException">The file cannot be read, a line is not a key (the message names it), or no key is listed.</exception>
    public static IReadOnlyList<byte[]> ReadAllowedClientKeys(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IOException($"ZeroMq.AllowedClientKeysFile {path}: no such file.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"ZeroMq.AllowedClientKeysFile {path}: {e.Message}", e);
        }

        var keys = new List<byte[]>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            byte[] key = new byte[32];
            if (line.Length != Z85KeyLength || !TryDecodeZ85(line, key))
            {
                throw new IOException($"{path}:{i + 1}: not a CurveZMQ public key (expected {Z85KeyLength} Z85 characters, as 'ratadns keygen' writes in a .pub file).");
            }

            keys.Add(key);
        }

        if (keys.Count == 0)
        {
            throw new IOException($"{path}: lists no CurveZMQ client key, so no subscriber could be allowed.");
        }

        return keys;
    }

    /// <summary>Z85 encoding (RFC 32) of a key, for messages that name it as its .pub file would.</summary>
    public static string EncodeZ85(ReadOnlySpan<byte> key)
    {
        if (key.Length % 4 != 0)
        {
            throw new ArgumentException("Z85 encodes whole groups of 4 bytes.", nameof(key));
        }

        var text = new char[key.Length / 4 * 5];
        for (int group = 0; group < key.Length / 4; group++)
        {
            uint value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(key.Slice(group * 4, 4));
            for (int i = 4; i >= 0; i--)
            {
                text[(group * 5) + i] = Alphabet[(int)(value % 85)];
                value /= 85;
            }
        }

        return new string(text);
    }

    /// <summary>The 32 bytes of a Z85 key read by <see cref="ReadKey(string, string?)"/>.</summary>
    public static byte[] ReadKeyBytes(string path, string? key)
    {
        byte[] bytes = new byte[32];
        if (!TryDecodeZ85(ReadKey(path, key), bytes))
        {
            throw new IOException($"{path}: not a CurveZMQ key (expected {Z85KeyLength} Z85 characters, as 'ratadns keygen' writes).");
        }

        return bytes;
    }

    /// <summary>Z85 decoding (RFC 32): every 5 characters are a big-endian base-85 number of 4 bytes.</summary>
    /// <returns>False when a character is outside the alphabet, a group overflows 32 bits or the lengths disagree.</returns>
    internal static bool TryDecodeZ85(ReadOnlySpan<char> text, Span<byte> output)
    {
        if (text.Length % 5 != 0 || output.Length != text.Length / 5 * 4)
        {
            return false;
        }

        for (int group = 0; group < text.Length / 5; group++)
        {
            ulong value = 0;
            foreach (char c in text.Slice(group * 5, 5))
            {
                int digit = Alphabet.IndexOf(c, StringComparison.Ordinal);
                if (digit < 0)
                {
                    return false;
                }

                value = (value * 85) + (uint)digit;
            }

            if (value > uint.MaxValue)
            {
                return false;
            }

            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(output.Slice(group * 4, 4), (uint)value);
        }

        return true;
    }

    // Z85 alphabet (RFC 32): 0-9 a-z A-Z . - : + = ^ ! / * ? & < > ( ) [ ] { } @ % $ #
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

    private static bool IsZ85(string text) =>
        !text.AsSpan().ContainsAnyExcept(Z85Alphabet);

    private static readonly System.Buffers.SearchValues<char> Z85Alphabet = System.Buffers.SearchValues.Create(Alphabet);
}
