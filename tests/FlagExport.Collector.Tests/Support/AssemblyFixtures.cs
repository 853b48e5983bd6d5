// One Azurite for the whole test assembly, started on first use and stopped after the last test.
[assembly: AssemblyFixture(typeof(FlagExport.Testing.AzuriteServer))]
