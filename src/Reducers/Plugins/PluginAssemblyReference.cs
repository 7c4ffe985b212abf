namespace RataDns.Reducers.Plugins;

/// <summary>
/// An assembly of users' reducers named in the configuration: where it is (<see cref="FullPath"/>, already resolved
/// against the configuration file's directory) and where the configuration names it (<see cref="ConfigurationPath"/>,
/// e.g. <c>PreliminarReducers[2].Assembly</c> or <c>ReducerAssemblies[0]</c>), for messages.
/// </summary>
public sealed record PluginAssemblyReference(string FullPath, string ConfigurationPath);
