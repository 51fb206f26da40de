"""appraise: options (make, buy, partner, merge), the Green Book economic case, uncertainty and switching values.

The numeric core: :mod:`.model` (plain data), :mod:`.parameters` (the versioned registry), :mod:`.discount`,
:mod:`.optimism`, :mod:`.economics`, :mod:`.sensitivity`, :mod:`.montecarlo`. Import from the modules; this package
module stays light so that importing ``partnering.appraise`` costs nothing.
"""
