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

    public const int Pair = 0;
    public const int Pub = 1;
    public const int Sub = 2;
    public const int Rep = 4;

    public const int Subscribe = 6;

    public const int Linger = 17;
    public const int ReceiveMore = 13;
    public const int SendHighWatermark = 23;
    public const int ReceiveHighWatermark = 24;
    public const int ReceiveTimeout = 27;
    public const int LastEndpoint = 32;
    public const int CurveServer = 47;
    public const int CurvePublicKey = 48;
    public const int CurveSecretKey = 49;
    public const int CurveServerKey = 50;
    public const int ZapDomain = 55;

    public const int DontWait = 1;
    public const int SendMore = 2;

    public const int EIntr = 4;
    public const int EAgain = 11;

    /// <summary>ZMQ_HAUSNUMERO + 53: the context is shutting down.</summary>
    public const int ETerm = 156384712 + 53;

    // Socket monitor events (zmq_socket_monitor): the first frame is the event (uint16) and its value (uint32).
    public const int EventConnected = 0x0001;
    public const int EventDisconnected = 0x0200;
    public const int EventMonitorStopped = 0x0400;
    public const int EventHandshakeFailedNoDetail = 0x0800;
    public const int EventHandshakeSucceeded = 0x1000;
    public const int EventHandshakeFailedProtocol = 0x2000;
    public const int EventHandshakeFailedAuth = 0x4000;

    // The value of EventHandshakeFailedProtocol: which rule of ZMTP the peer broke.
    public const uint ProtocolErrorCryptographic = 0x11000001;
    public const uint ProtocolErrorMechanismMismatch = 0x11000002;

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

    /// <summary>Makes libzmq publish the socket's <paramref name="events"/> on a PAIR socket bound at <paramref name="endpoint"/> (an inproc name).</summary>
    [LibraryImport(LibraryName, EntryPoint = "zmq_socket_monitor", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SocketMonitor(nint socket, string endpoint, int events);

    [LibraryImport(LibraryName, EntryPoint = "zmq_msg_init", SetLastError = true)]
    public static partial int MessageInit(ref Message message);

    /// <summary>Receives one frame, whatever its size, into <paramref name="message"/>; its length, or -1 (EAGAIN after ZMQ_RCVTIMEO).</summary>
    [LibraryImport(LibraryName, EntryPoint = "zmq_msg_recv", SetLastError = true)]
    public static partial int MessageReceive(ref Message message, nint socket, int flags);

    [LibraryImport(LibraryName, EntryPoint = "zmq_msg_data")]
    public static partial nint MessageData(ref Message message);

    [LibraryImport(LibraryName, EntryPoint = "zmq_msg_size")]
    public static partial nuint MessageSize(ref Message message);

    [LibraryImport(LibraryName, EntryPoint = "zmq_msg_more")]
    public static partial int MessageMore(ref Message message);

    [LibraryImport(LibraryName, EntryPoint = "zmq_msg_close")]
    public static partial int MessageClose(ref Message message);

    /// <summary>zmq_msg_t: 64 opaque bytes, initialised and closed by libzmq.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 64)]
    public struct Message
    {
        private readonly long _first;
    }

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

    /// <summary>
    /// Receives one frame of any size as a new array; false on EAGAIN (nothing within the socket's receive timeout)
    /// or another failure, whose errno is in <paramref name="errno"/>.
    /// </summary>
    public static unsafe bool TryReceiveFrame(nint socket, out byte[] frame, out bool more, out int errno)
    {
        var message = default(Message);
        MessageInit(ref message);
        try
        {
            if (MessageReceive(ref message, socket, 0) < 0)
            {
                errno = Marshal.GetLastPInvokeError();
                frame = [];
                more = false;
                return false;
            }

            int size = checked((int)MessageSize(ref message));
            frame = size == 0 ? [] : new ReadOnlySpan<byte>((void*)MessageData(ref message), size).ToArray();
            more = MessageMore(ref message) != 0;
            errno = 0;
            return true;
        }
        finally
        {
            MessageClose(ref message);
        }
    }

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
