using Akka.Actor;
using Xunit;

namespace VhsaKmt.Daemon.Tests;

/// <summary>The dispatchers HOCON.conf declares can really be used by actors.</summary>
public sealed class HoconDispatcherTests
{
    /// <summary>Answers with facts about the thread that ran it.</summary>
    private sealed class ThreadReporter : ReceiveActor
    {
        public ThreadReporter() => Receive<string>(_ => Sender.Tell(Thread.CurrentThread.IsThreadPoolThread));
    }

    [Theory]
    [InlineData("akka.actor.vhsakmt-context-dispatcher")]
    [InlineData("akka.actor.vhsakmt-io-dispatcher")]
    public async Task ActorsRunOnTheDedicatedThreadsOfTheDeclaredDispatcher(string dispatcherId)
    {
        var system = ActorSystem.Create("dispatchers", EmbeddedDefaults.Config());
        try
        {
            Assert.True(system.Dispatchers.HasDispatcher(dispatcherId), dispatcherId);
            var actor = system.ActorOf(Props.Create(() => new ThreadReporter()).WithDispatcher(dispatcherId));
            var onThreadPool = await actor.Ask<bool>("where", TimeSpan.FromSeconds(10));
            // ForkJoinDispatcher = Akka's dedicated thread pool, never the shared .NET thread pool.
            Assert.False(onThreadPool);

            var reference = system.ActorOf(Props.Create(() => new ThreadReporter()));
            Assert.True(await reference.Ask<bool>("where", TimeSpan.FromSeconds(10)), "control: the default dispatcher uses the .NET pool");
        }
        finally
        {
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}
