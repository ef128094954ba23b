# A TCP load balancer for tests/e2e/swarm.sh, standing in for swarm's routing mesh on engines
# without IPVS: listens on :8080 and pipes each connection to a task of the stack's gateway
# (`gateway` resolves to every task with endpoint_mode dnsrr), trying the next task when one
# refuses. Runs in a debian image (perl-base) on the stack's attachable `public` network.
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use Socket qw(inet_ntoa);

$SIG{CHLD} = 'IGNORE';
my $listen = IO::Socket::INET->new(LocalPort => 8080, Listen => 128, ReuseAddr => 1)
  or die "listen: $!";
while (1) {
  my $client = $listen->accept or next;
  if (fork) { close $client; next; }
  close $listen;
  my (undef, undef, undef, undef, @addrs) = gethostbyname('gateway');
  my $upstream;
  for my $a (sort { rand() <=> 0.5 } @addrs) {
    $upstream = IO::Socket::INET->new(PeerAddr => inet_ntoa($a), PeerPort => 8080, Timeout => 2);
    last if $upstream;
  }
  exit 0 unless $upstream;
  my $sel = IO::Select->new($client, $upstream);
  my $buf;
  LOOP: while (1) {
    for my $fh ($sel->can_read(300)) {
      my $n = sysread($fh, $buf, 65536);
      last LOOP unless $n;
      my $to = $fh == $client ? $upstream : $client;
      my $off = 0;
      while ($off < $n) {
        my $w = syswrite($to, $buf, $n - $off, $off);
        last LOOP unless defined $w;
        $off += $w;
      }
    }
  }
  exit 0;
}
