using System.Globalization;
using System.Text.RegularExpressions;
using RataDns.Transport.Publishing;

namespace RataDns.Transport.Files;

/// <summary>
/// Appends window results to a file, one envelope per line (NDJSON: the JSON and <c>'\n'</c>), and writes them at
/// <see cref="EndOfWindow"/>, so a reader tailing the file sees whole windows. Optionally rotates by size
/// (<see cref="FileResultChannelOptions.MaxBytes"/>) and by wall-clock time
/// (<see cref="FileResultChannelOptions.RotateEvery"/>): the file is closed and renamed
/// <c>&lt;name&gt;.&lt;yyyyMMddTHHmmssZ&gt;</c> (the UTC time of the rotation; <c>.1</c>, <c>.2</c>... appended
/// when that name is taken), and the next result starts a new one; the oldest rotated files beyond
/// <see cref="FileResultChannelOptions.MaxFiles"/> are deleted.
/// <para>
/// A full disk, a missing directory or a file it may not write never throws: the error is counted, the window's
/// results that did not reach the file are counted as dropped, the failure is reported once on
/// <see cref="FileResultChannelOptions.Log"/>, and the file is opened again at the next window. A partly written
/// window is cut off the file, so no line is ever half there.
/// </para>
/// <para>
/// Several reducers may share one file: make one channel per path. Single-threaded, like every channel: the
/// engine's merger thread calls <see cref="Publish"/> and <see cref="EndOfWindow"/>; <see cref="Statistics"/> may
/// be read from any thread.
/// </para>
/// </summary>
public sealed partial class FileResultChannel : IResultChannel
{
    private readonly FileResultChannelOptions _options;
    private readonly string _path;
    private readonly ChannelStatistics _statistics = new();

    // The window's lines, written at EndOfWindow: _lineEnds[i] is the offset just past line i's '\n'.
    private byte[] _pending = new byte[1 << 16];
    private int _pendingBytes;
    private readonly List<int> _lineEnds = [];

    private FileStream? _stream;
    private long _length;          // bytes in the open file, as far as we wrote them
    private long _confirmedLength; // bytes of whole lines: a failed write is cut back to this
    private long _openedPeriod;    // RotateEvery periods since 1970 when the file was opened
    private int _linesWritten;     // of the window being written: lines known to be in a file
    private bool _failing;
    private long _droppedWhileFailing;
    private bool _pruneFailureReported;
    private bool _disposed;

    public FileResultChannel(FileResultChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _path = System.IO.Path.GetFullPath(options.Path);
    }

    /// <summary>The file's full path.</summary>
    public string Path => _path;

    public ChannelStatistics Statistics => _statistics;

    public string Describe() => $"file {_options.Path}";

    /// <summary>Keeps the result for the end of the window; never fails (the file is written at <see cref="EndOfWindow"/>).</summary>
    public bool Publish(in ResultEnvelope result)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var json = result.Json;
        int needed = _pendingBytes + json.Length + 1;
        if (needed > _pending.Length)
        {
            Array.Resize(ref _pending, Math.Max(needed, _pending.Length * 2));
        }

        json.CopyTo(_pending.AsSpan(_pendingBytes));
        _pending[_pendingBytes + json.Length] = (byte)'\n';
        _pendingBytes = needed;
        _lineEnds.Add(needed);
        return true;
    }

    /// <summary>Writes the window's results (rotating first when due); failures are counted, never thrown.</summary>
    public void EndOfWindow()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int lines = _lineEnds.Count;
        _linesWritten = 0;
        var now = _options.Clock();
        try
        {
            if (_stream is not null && _length > 0 && _options.RotateEvery > TimeSpan.Zero && Period(now) != _openedPeriod)
            {
                Rotate(now);
            }

            if (lines > 0)
            {
                WritePending(now);
                Recover();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(e, lines - _linesWritten);
        }
        finally
        {
            _statistics.CountSent(_linesWritten);
            if (lines > _linesWritten)
            {
                _statistics.CountDropped(lines - _linesWritten);
            }

            _pendingBytes = 0;
            _lineEnds.Clear();
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        if (_lineEnds.Count > 0)
        {
            EndOfWindow();
        }

        _disposed = true;
        CloseQuietly();
    }

    /// <summary>Writes the pending lines in runs, rotating before a line that would pass MaxBytes.</summary>
    private void WritePending(DateTimeOffset now)
    {
        var stream = _stream ?? Open(now);
        int runStart = 0;
        for (int i = 0; i < _lineEnds.Count; i++)
        {
            int lineStart = i == 0 ? 0 : _lineEnds[i - 1];
            int lineLength = _lineEnds[i] - lineStart;
            long before = _length + (lineStart - runStart);
            if (_options.MaxBytes > 0 && before > 0 && before + lineLength > _options.MaxBytes)
            {
                WriteRun(stream, runStart, lineStart);
                _linesWritten = i;
                Rotate(now);
                stream = Open(now);
                runStart = lineStart;
            }
        }

        WriteRun(stream, runStart, _pendingBytes);
        _linesWritten = _lineEnds.Count;

        void WriteRun(FileStream stream, int from, int to)
        {
            if (to > from)
            {
                stream.Write(_pending, from, to - from);
                _length += to - from;
                _confirmedLength = _length;
            }
        }
    }

    private FileStream Open(DateTimeOffset now)
    {
        // Unbuffered: the window is already one buffer, and a failed write must not leave bytes behind in ours.
        // OpenOrCreate and a seek rather than Append, so that a partial write can be cut off with SetLength.
        var stream = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read | FileShare.Delete, bufferSize: 0);
        try
        {
            _length = stream.Seek(0, SeekOrigin.End);
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        _confirmedLength = _length;
        _openedPeriod = Period(now);
        _stream = stream;
        return stream;
    }

    /// <summary>Closes the file, renames it with the time, and prunes the oldest rotated files.</summary>
    private void Rotate(DateTimeOffset now)
    {
        _stream?.Dispose();
        _stream = null;
        string stamp = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string target = $"{_path}.{stamp}";
        for (int n = 1; File.Exists(target); n++)
        {
            target = $"{_path}.{stamp}.{n}";
        }

        File.Move(_path, target);
        Prune();
    }

    private void Prune()
    {
        if (_options.MaxFiles == 0)
        {
            return;
        }

        try
        {
            var rotated = RotatedFiles(_path);
            for (int i = 0; i < rotated.Count - _options.MaxFiles; i++)
            {
                File.Delete(rotated[i]);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The results are safe; only the old files stay. Counted, and said once.
            _statistics.CountError();
            if (!_pruneFailureReported)
            {
                _pruneFailureReported = true;
                _options.Log?.WriteLine($"{Describe()}: cannot delete old rotated files: {e.Message}");
            }
        }
    }

    /// <summary>The rotated files of <paramref name="path"/> (full paths), oldest first.</summary>
    public static IReadOnlyList<string> RotatedFiles(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        string directory = System.IO.Path.GetDirectoryName(full)!;
        string name = System.IO.Path.GetFileName(full);
        var found = new List<(string Stamp, int N, string Path)>();
        if (!Directory.Exists(directory))
        {
            return [];
        }

        foreach (string file in Directory.EnumerateFiles(directory, name + ".*"))
        {
            // The search pattern also matches the file itself ("name.*" takes "name"): check the prefix.
            string fileName = System.IO.Path.GetFileName(file);
            if (fileName.Length <= name.Length + 1 || !fileName.StartsWith(name + ".", StringComparison.Ordinal))
            {
                continue;
            }

            var match = RotatedSuffix().Match(fileName, name.Length + 1);
            if (match.Success)
            {
                int n = match.Groups[2].Success ? int.Parse(match.Groups[2].ValueSpan, CultureInfo.InvariantCulture) : 0;
                found.Add((match.Groups[1].Value, n, file));
            }
        }

        found.Sort(static (a, b) =>
        {
            int byStamp = string.CompareOrdinal(a.Stamp, b.Stamp);
            return byStamp != 0 ? byStamp : a.N.CompareTo(b.N);
        });
        return [.. found.Select(f => f.Path)];
    }

    [GeneratedRegex(@"\G(\d{8}T\d{6}Z)(?:\.(\d{1,9}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex RotatedSuffix();

    private long Period(DateTimeOffset now) =>
        _options.RotateEvery > TimeSpan.Zero ? (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / _options.RotateEvery.Ticks : 0;

    private void Fail(Exception e, int dropped)
    {
        _statistics.CountError();
        _droppedWhileFailing += dropped;
        if (_stream is not null)
        {
            try
            {
                _stream.SetLength(_confirmedLength); // no half line left for the next window to follow
            }
            catch (Exception cut) when (cut is IOException or UnauthorizedAccessException)
            {
                // Nothing more to do: the next open appends after whatever is there.
            }
        }

        CloseQuietly();
        if (!_failing)
        {
            _failing = true;
            _options.Log?.WriteLine($"{Describe()}: {e.Message} Results are dropped (and counted) until it can be written; retrying at each window.");
        }
    }

    private void Recover()
    {
        if (_failing)
        {
            _failing = false;
            _options.Log?.WriteLine($"{Describe()}: written again after {_droppedWhileFailing} dropped results.");
            _droppedWhileFailing = 0;
        }
    }

    private void CloseQuietly()
    {
        try
        {
            _stream?.Dispose();
        }
        catch (IOException)
        {
            // Unbuffered: nothing of ours is lost; the failure was counted when it happened.
        }

        _stream = null;
    }
}
