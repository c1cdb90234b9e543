using System.Collections.Concurrent;

namespace EvolverActors.Actors.Lineage;

/// <summary>
/// The recipes a node can rebuild weights from, by weight id, with the content hash the run measured for each
/// (null where none was recorded). Fed from the journal (accepted offspring) and by the breeder (offspring in
/// flight). Thread-safe.
/// </summary>
public sealed class RecipeBook
{
    private readonly ConcurrentDictionary<string, (Recipe Recipe, string? Hash)> _recipes = new(StringComparer.Ordinal);

    public int Count => _recipes.Count;

    /// <summary>Records <paramref name="recipe"/> under <paramref name="id"/> (a later hash completes an earlier entry).</summary>
    public void Add(string id, Recipe recipe, string? hash = null) =>
        _recipes.AddOrUpdate(id, (recipe, hash), (_, old) => (recipe, hash ?? old.Hash));

    /// <summary>Forgets <paramref name="id"/> (a rejected offspring, or a recipe the journal's snapshots made unnecessary).</summary>
    public void Remove(string id) => _recipes.TryRemove(id, out _);

    /// <summary>Forgets every recipe that <paramref name="remove"/> accepts (by id and recipe).</summary>
    public void RemoveWhere(Func<string, Recipe, bool> remove)
    {
        foreach (var (id, _) in _recipes.Where(kv => remove(kv.Key, kv.Value.Recipe)).ToList())
        {
            _recipes.TryRemove(id, out _);
        }
    }

    public bool TryGet(string id, out Recipe recipe, out string? hash)
    {
        if (_recipes.TryGetValue(id, out var entry))
        {
            (recipe, hash) = entry;
            return true;
        }
        (recipe, hash) = (null!, null);
        return false;
    }
}
