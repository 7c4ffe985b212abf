namespace RataDns.Tests.Support;

/// <summary>
/// A <see cref="TimeProvider"/> whose time moves only when the test calls <see cref="Advance"/>: a timer (a
/// <c>Task.Delay</c>, a <c>CancellationTokenSource</c> timeout) armed on it fires then, never by itself, so what
/// happens within an interval does not depend on how fast the machine runs the test.
/// </summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<ManualTimer> _armed = [];
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp()
    {
        lock (_gate)
        {
            return _ticks;
        }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return DateTimeOffset.UnixEpoch.AddYears(56).AddTicks(_ticks);
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>True while a timer armed for <paramref name="dueTime"/> (as given when it was armed) waits to fire.</summary>
    public bool IsArmed(TimeSpan dueTime)
    {
        lock (_gate)
        {
            return _armed.Exists(t => t.DueTime == dueTime);
        }
    }

    /// <summary>Moves the time on and fires every timer due by then, on the thread pool as the system's timers do.</summary>
    public void Advance(TimeSpan by)
    {
        List<ManualTimer> due;
        lock (_gate)
        {
            _ticks += by.Ticks;
            due = _armed.FindAll(t => t.DueAt <= _ticks);
            foreach (var timer in due)
            {
                if (timer.Period > TimeSpan.Zero)
                {
                    timer.DueAt = _ticks + timer.Period.Ticks;
                }
                else
                {
                    _armed.Remove(timer);
                }
            }
        }

        foreach (var timer in due)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static t => t.Fire(), timer, preferLocal: false);
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public TimeSpan DueTime { get; private set; }

        public TimeSpan Period { get; private set; }

        public long DueAt { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                owner._armed.Remove(this);
                DueTime = dueTime;
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                if (dueTime != Timeout.InfiniteTimeSpan)
                {
                    DueAt = owner._ticks + dueTime.Ticks;
                    owner._armed.Add(this);
                }
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._armed.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
