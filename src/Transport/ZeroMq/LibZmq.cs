using System.Runtime.InteropServices;

namespace RataDns.Transport.ZeroMq;

/// <summary>
/// The few calls of the system libzmq (<c>libzmq.so.5</c>, API 4.x) that <see cref="NativeZeroMqPublisher"/> needs.
/// Handles are opaque pointers; a failing call returns -1 (or null) and its errno is read with
/// <see cref="Marshal.GetLastPInvokeError"/> (captured at the call, so the runtime cannot overwrite it).
/// Constants are from zmq.h.
/// </summary>
internal static partial class LibZmq
{
    public const string LibraryName = "libzmq.so.5";

    public const int Pub = 1;
    public const int Rep = 4;

    public const int Linger = 17;
    public const int ReceiveMore = 13;
    public const int SendHighWatermark = 23;
    public const int LastEndpoint = 32;
    public const int CurveServer = 47;
    public const int CurveSecretKey = 49;
    public const int ZapDomain = 55;

    public const int DontWait = 1;
    public const int SendMore = 2;

    public const int EIntr = 4;
    public const int EAgain = 11;

    /// <summary>ZMQ_HAUSNUMERO + 53: the context is shutting down.</summary>
    public const int ETerm = 156384712 + 53;

    /// <summary>Where libzmq looks for the ZAP handler of every socket of a context (RFC 27).</summary>
    public const string ZapEndpoint = "inproc://zeromq.zap.01";

    [LibraryImport(LibraryName, EntryPoint = "zmq_ctx_new", SetLastError = true)]
    public static partial nint ContextNew();

    [LibraryImport(LibraryName, EntryPoint = "zmq_ctx_shutdown", SetLastError = true)]
    public static partial int ContextShutdown(nint context);

    [LibraryImport(LibraryName, EntryPoint = "zmq_ctx_term", SetLastError = true)]
    public static partial int ContextTerm(nint context);

    [LibraryImport(LibraryName, EntryPoint = "zmq_socket", SetLastError = true)]
    public static partial nint Socket(nint context, int type);

    [LibraryImport(LibraryName, EntryPoint = "zmq_close", SetLastError = true)]
    public static partial int Close(nint socket);

    [LibraryImport(LibraryName, EntryPoint = "zmq_setsockopt", SetLastError = true)]
    public static partial int SetSocketOption(nint socket, int option, ReadOnlySpan<byte> value, nuint length);

    [LibraryImport(LibraryName, EntryPoint = "zmq_getsockopt", SetLastError = true)]
    public static partial int GetSocketOption(nint socket, int option, Span<byte> value, ref nuint length);

    [LibraryImport(LibraryName, EntryPoint = "zmq_bind", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Bind(nint socket, string endpoint);

    [LibraryImport(LibraryName, EntryPoint = "zmq_connect", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Connect(nint socket, string endpoint);

    /// <summary>Queues one frame; returns its length, or -1 (EAGAIN with <see cref="DontWait"/> when it cannot be queued now).</summary>
    [LibraryImport(LibraryName, EntryPoint = "zmq_send", SetLastError = true)]
    public static partial int Send(nint socket, ReadOnlySpan<byte> buffer, nuint length, int flags);

    /// <summary>Receives one frame into <paramref name="buffer"/>; returns the frame's full length (truncated when larger than the buffer), or -1.</summary>
    [LibraryImport(LibraryName, EntryPoint = "zmq_recv", SetLastError = true)]
    public static partial int Receive(nint socket, Span<byte> buffer, nuint length, int flags);

    [LibraryImport(LibraryName, EntryPoint = "zmq_has", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Has(string capability);

    // Returns a static string: marshalled by hand, so nothing tries to free it.
    [LibraryImport(LibraryName, EntryPoint = "zmq_strerror")]
    private static partial nint StrError(int errno);

    /// <summary>libzmq's message for an errno.</summary>
    public static string Describe(int errno) => Marshal.PtrToStringUTF8(StrError(errno)) ?? $"errno {errno}";

    /// <summary>libzmq's message for the errno of the last failed call on this thread.</summary>
    public static string LastError() => Describe(Marshal.GetLastPInvokeError());

    public static int SetInt(nint socket, int option, int value) =>
        SetSocketOption(socket, option, MemoryMarshal.AsBytes(new ReadOnlySpan<int>(in value)), sizeof(int));

    public static int SetBytes(nint socket, int option, ReadOnlySpan<byte> value) =>
        SetSocketOption(socket, option, value, (nuint)value.Length);

    /// <summary>Whether the socket's last received frame has more frames after it.</summary>
    public static bool HasMore(nint socket)
    {
        int more = 0;
        nuint length = sizeof(int);
        return GetSocketOption(socket, ReceiveMore, MemoryMarshal.AsBytes(new Span<int>(ref more)), ref length) == 0 && more != 0;
    }

    /// <summary>The endpoint a socket bound last (a <c>tcp://host:*</c> bind shows its port), or null.</summary>
    public static string? LastBoundEndpoint(nint socket)
    {
        Span<byte> buffer = stackalloc byte[512];
        nuint length = (nuint)buffer.Length;
        if (GetSocketOption(socket, LastEndpoint, buffer, ref length) != 0 || length == 0)
        {
            return null;
        }

        // The value ends with a NUL counted in length.
        return System.Text.Encoding.UTF8.GetString(buffer[..((int)length - 1)]);
    }

    /// <summary>True when libzmq.so.5 loads and was built with CURVE; otherwise <paramref name="reason"/> says why not.</summary>
    public static bool TryLoad(out string? reason)
    {
        if (!NativeLibrary.TryLoad(LibraryName, typeof(LibZmq).Assembly, null, out _))
        {
            reason = $"{LibraryName} cannot be loaded";
            return false;
        }

        try
        {
            if (Has("curve") == 0)
            {
                reason = $"{LibraryName} was built without CURVE";
                return false;
            }
        }
        catch (EntryPointNotFoundException e)
        {
            reason = e.Message;
            return false;
        }

        reason = null;
        return true;
    }
}
