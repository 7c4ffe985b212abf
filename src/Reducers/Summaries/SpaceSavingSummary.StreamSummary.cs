namespace RataDns.Reducers.Summaries;

/// <summary>
/// The Stream-Summary of Metwally et al. 2005 (section 3.1) in arrays. A bucket holds every counter with one
/// count; buckets form a doubly linked list in ascending count order (<see cref="_minBucket"/> first), and each
/// bucket's counters form a doubly linked list from <see cref="_bucketHead"/>. A counter's count is its bucket's.
/// There are never more non-empty buckets than counters, and a bucket is freed before a new one is needed unless
/// the old one keeps other counters, so <c>capacity</c> buckets suffice; free buckets are chained through
/// <see cref="_bucketNext"/>.
/// </summary>
public sealed partial class SpaceSavingSummary
{
    private const int NoBucket = -1;
    private const int NoCounter = -1;

    // Per counter.
    private readonly int[] _counterBucket;
    private readonly int[] _nextInBucket;
    private readonly int[] _previousInBucket;

    // Per bucket.
    private readonly long[] _bucketCount;
    private readonly int[] _bucketHead;
    private readonly int[] _bucketNext;
    private readonly int[] _bucketPrevious;

    private int _minBucket;
    private int _maxBucket;
    private int _freeBucket;

    private void ResetBuckets()
    {
        _minBucket = NoBucket;
        _maxBucket = NoBucket;
        for (int b = 0; b < _bucketNext.Length; b++)
        {
            _bucketNext[b] = b + 1 < _bucketNext.Length ? b + 1 : NoBucket;
        }

        _freeBucket = 0;
    }

    /// <summary>Adds <paramref name="weight"/> to a monitored counter, moving it to the bucket of its new count.</summary>
    private void Increment(int counter, long weight)
    {
        int bucket = _counterBucket[counter];
        long count = _bucketCount[bucket] + weight;
        DetachCounter(counter);
        if (_bucketHead[bucket] != NoCounter)
        {
            PlaceCounter(counter, count, searchFrom: bucket);
            return;
        }

        // The counter was alone: if no bucket lies at or below the new count after it, keep the bucket and only
        // raise its count (the list stays sorted); otherwise free it and search from its predecessor.
        int next = _bucketNext[bucket];
        if (next == NoBucket || _bucketCount[next] > count)
        {
            _bucketCount[bucket] = count;
            AttachCounter(counter, bucket);
            return;
        }

        int previous = _bucketPrevious[bucket];
        UnlinkBucket(bucket);
        PlaceCounter(counter, count, searchFrom: previous);
    }

    /// <summary>
    /// Attaches a detached counter to the bucket of <paramref name="count"/>, creating it if needed. The search
    /// walks forward from <paramref name="searchFrom"/>, a bucket whose count is &lt;= <paramref name="count"/>
    /// (<see cref="NoBucket"/>: from the minimum).
    /// </summary>
    private void PlaceCounter(int counter, long count, int searchFrom)
    {
        int previous = searchFrom;
        int next = previous == NoBucket ? _minBucket : _bucketNext[previous];
        while (next != NoBucket && _bucketCount[next] < count)
        {
            previous = next;
            next = _bucketNext[next];
        }

        int target;
        if (next != NoBucket && _bucketCount[next] == count)
        {
            target = next;
        }
        else if (previous != NoBucket && _bucketCount[previous] == count)
        {
            target = previous;
        }
        else
        {
            target = _freeBucket;
            _freeBucket = _bucketNext[target];
            _bucketCount[target] = count;
            _bucketHead[target] = NoCounter;
            LinkBucketAfter(target, previous);
        }

        AttachCounter(counter, target);
    }

    private void AttachCounter(int counter, int bucket)
    {
        int head = _bucketHead[bucket];
        _previousInBucket[counter] = NoCounter;
        _nextInBucket[counter] = head;
        if (head != NoCounter)
        {
            _previousInBucket[head] = counter;
        }

        _bucketHead[bucket] = counter;
        _counterBucket[counter] = bucket;
    }

    /// <summary>Takes a counter out of its bucket's list; the bucket stays linked, possibly empty.</summary>
    private void DetachCounter(int counter)
    {
        int previous = _previousInBucket[counter];
        int next = _nextInBucket[counter];
        if (previous != NoCounter)
        {
            _nextInBucket[previous] = next;
        }
        else
        {
            _bucketHead[_counterBucket[counter]] = next;
        }

        if (next != NoCounter)
        {
            _previousInBucket[next] = previous;
        }
    }

    /// <summary>Links <paramref name="bucket"/> right after <paramref name="previous"/> (<see cref="NoBucket"/>: first).</summary>
    private void LinkBucketAfter(int bucket, int previous)
    {
        int next = previous == NoBucket ? _minBucket : _bucketNext[previous];
        _bucketPrevious[bucket] = previous;
        _bucketNext[bucket] = next;
        if (previous == NoBucket)
        {
            _minBucket = bucket;
        }
        else
        {
            _bucketNext[previous] = bucket;
        }

        if (next == NoBucket)
        {
            _maxBucket = bucket;
        }
        else
        {
            _bucketPrevious[next] = bucket;
        }
    }

    /// <summary>Unlinks an empty bucket and returns it to the free list.</summary>
    private void UnlinkBucket(int bucket)
    {
        int previous = _bucketPrevious[bucket];
        int next = _bucketNext[bucket];
        if (previous == NoBucket)
        {
            _minBucket = next;
        }
        else
        {
            _bucketNext[previous] = next;
        }

        if (next == NoBucket)
        {
            _maxBucket = previous;
        }
        else
        {
            _bucketPrevious[next] = previous;
        }

        _bucketNext[bucket] = _freeBucket;
        _freeBucket = bucket;
    }
}
