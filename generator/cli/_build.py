"""`cpg build`: placeholder until the compiler lands (replaced in the next commit)."""
