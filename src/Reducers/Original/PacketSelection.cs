namespace RataDns.Reducers.Original;

/// <summary>Which packets a reducer counts: queries (QR = 0), answers (QR = 1), or all of them.</summary>
public enum PacketSelection : byte
{
    Queries,
    Answers,
    All,
}
