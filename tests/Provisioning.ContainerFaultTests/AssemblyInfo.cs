// Each test class has its own fleet (PostgreSQL, coordinator, two daemons) and spends most of its time waiting on
// builds and on the coordinator's reaper: the three classes run at once, whatever the number of cores.
[assembly: CollectionBehavior(MaxParallelThreads = 3)]
