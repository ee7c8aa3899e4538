// The build must not depend on where the checkout lives: CI rebuilds the
// committed nbtrack/labextension in a fresh clone and compares. Deterministic
// module ids hash the container entry's identifier, which holds absolute
// paths, so the entry id (and remoteEntry's hash) changed with the folder.
// Natural ids number modules in build order, which is the same everywhere.
module.exports = {
  optimization: {
    moduleIds: 'natural'
  }
};
