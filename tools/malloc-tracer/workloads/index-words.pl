#!/usr/bin/perl
# A word index of Perl's own library (the perl-modules package): every .pm file
# under the folder given is read, each identifier-like word mapped to the
# places it occurs, then the most frequent words are printed with a sample of
# their places. Memory grows with the index, as a real indexer's does.
use strict;
use warnings;
use File::Find;

my $root = shift // '/usr/share/perl/5.36.0';
my (@files, %count, %places);
find({ wanted => sub { push @files, $File::Find::name if /\.pm\z/ }, no_chdir => 1 }, $root);
for my $file (sort @files) {
  open my $in, '<', $file or die "$file: $!";
  while (my $line = <$in>) {
    for my $word ($line =~ /([A-Za-z_][A-Za-z0-9_]{2,})/g) {
      $count{$word}++;
      push @{ $places{$word} }, "$file:$.";
    }
  }
  close $in;
}
my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 99];
for my $word (@top) {
  my @some = @{ $places{$word} }[0 .. 2];
  printf "%-24s %8d  %s\n", $word, $count{$word}, join(' ', map { s{^\Q$root\E/}{}r } @some);
}
printf "%d files, %d distinct words\n", scalar @files, scalar keys %count;
